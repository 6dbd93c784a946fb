package pgdb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// Migrate applies every pending migration in migrations (NNNN_name.sql files
// in goose format) to schema, creating the schema if needed. Goose keeps its
// version table inside the schema, so services migrate independently, and a
// PostgreSQL advisory lock stops two instances of a service migrating at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string, migrations fs.FS) error {
	return MigrateTable(ctx, pool, schema, "goose_db_version", migrations)
}

// MigrateTable is Migrate with a version table of the caller's choosing, for
// shared components (such as the outbox) that keep tables in a service's
// schema but version them on their own. Migrations run with search_path set
// to schema, so their SQL names tables without a schema prefix.
func MigrateTable(ctx context.Context, pool *pgxpool.Pool, schema, versionTable string, migrations fs.FS) error {
	if owner, ok := ctx.Value(ownerKey{}).(*Owner); ok {
		pool = owner.Pool
	}
	if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("creating schema %s: %w", schema, err)
	}
	connCfg := pool.Config().ConnConfig.Copy()
	connCfg.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*connCfg)
	defer db.Close()
	provider, err := newProvider(db, schema, versionTable, migrations)
	if err != nil {
		return err
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrating schema %s: %w", schema, err)
	}
	if owner, ok := ctx.Value(ownerKey{}).(*Owner); ok && owner.After != nil {
		for _, stmt := range owner.After(schema) {
			if _, err := pool.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("granting after migrating schema %s: %w", schema, err)
			}
		}
	}
	return nil
}

// Owner is the role that migrations run as, when it is not the role the
// service runs as: the owner creates and alters the tables, and the
// service's own role may only use their rows.
type Owner struct {
	// Pool connects as the owner role.
	Pool *pgxpool.Pool
	// After returns statements the owner runs once schema's migrations
	// have run, such as grants on the tables they made.
	After func(schema string) []string
}

type ownerKey struct{}

// AsOwner returns a context under which Migrate and MigrateTable connect
// as owner rather than with the pool they are given. The service
// environment sets it, so that a service's own Migrate method need not
// know which role migrates.
func AsOwner(ctx context.Context, owner *Owner) context.Context {
	return context.WithValue(ctx, ownerKey{}, owner)
}

func newProvider(db *sql.DB, schema, versionTable string, migrations fs.FS) (*goose.Provider, error) {
	store, err := database.NewStore(goose.DialectPostgres, schema+"."+versionTable)
	if err != nil {
		return nil, fmt.Errorf("creating migration store: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(schema + "." + versionTable)))
	if err != nil {
		return nil, fmt.Errorf("creating migration lock: %w", err)
	}
	provider, err := goose.NewProvider("", db, migrations, goose.WithStore(store), goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("loading migrations for %s: %w", schema, err)
	}
	return provider, nil
}

// lockID derives a per-schema advisory lock id so that different services
// can migrate in parallel while two copies of one service cannot.
func lockID(schema string) int64 {
	var h int64 = 5381
	for _, c := range schema {
		h = h*33 + int64(c)
	}
	return h & 0x7fffffff
}

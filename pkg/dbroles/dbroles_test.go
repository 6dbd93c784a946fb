package dbroles_test

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lantern-safeguarding/lantern/pkg/dbroles"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var update = flag.Bool("update", false, "rewrite deploy/postgres/roles.sql")

// newRoles provisions roles of their own for a new database, as make run
// and the test clusters do, and drops them once the database is gone.
// Before provisioning, before runs as the superuser, for a database that
// held Lantern's tables before the roles existed.
func newRoles(t *testing.T, before ...string) (string, dbroles.Roles, dbroles.URLs) {
	t.Helper()
	ctx := t.Context()
	roles := dbroles.Roles{Prefix: "t" + strings.ToLower(rand.Text()[:10])}
	admin := pgtest.URL(t)
	t.Cleanup(func() {
		if err := dbroles.Unprovision(context.Background(), admin, roles); err != nil {
			t.Error(err)
		}
	})
	dbURL := pgtest.NewDatabase(t, "dbroles-empty", nil)
	for _, stmt := range before {
		execAs(t, dbURL, stmt)
	}
	urls, err := dbroles.Provision(ctx, dbURL, roles)
	if err != nil {
		t.Fatal(err)
	}
	return dbURL, roles, urls
}

func execAs(t *testing.T, url, stmt string) {
	t.Helper()
	conn := pgtest.Connect(t, url)
	if _, err := conn.Exec(t.Context(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// migrateAsOwner does what the services' migrations do as the owner: a
// table (with a sequence) in every schema, and the tables that other
// services have explicit reads of; then the grants the owner renews after
// migrating.
func migrateAsOwner(t *testing.T, roles dbroles.Roles, owner string) {
	t.Helper()
	conn := pgtest.Connect(t, owner)
	keys := dbroles.KeysSchema
	// The keys schema's tables have no sequences; the services get none
	// there.
	if _, err := conn.Exec(t.Context(), "CREATE TABLE "+keys+".probe (id text PRIMARY KEY DEFAULT gen_random_uuid()::text)"); err != nil {
		t.Fatalf("as the owner: %v", err)
	}
	for _, schema := range dbroles.Schemas() {
		stmts := []string{"CREATE SCHEMA IF NOT EXISTS " + schema, "CREATE TABLE " + schema + ".probe (id bigserial PRIMARY KEY)"}
		for _, s := range dbroles.Services {
			for _, rd := range s.Reads {
				if rd.Schema == schema && rd.Table != "" {
					stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+schema+"."+rd.Table+" (id bigserial PRIMARY KEY)")
				}
			}
		}
		stmts = append(stmts, roles.AfterMigrate(schema)...)
		for _, stmt := range stmts {
			if _, err := conn.Exec(t.Context(), stmt); err != nil {
				t.Fatalf("as the owner: %s: %v", stmt, err)
			}
		}
	}
}

// access is what a role may do with a table.
type access int

const (
	none access = iota
	read
	readWrite
)

func (a access) String() string { return [...]string{"none", "read", "read and write"}[a] }

// want is the access the table grants service to schema.table.
func want(s dbroles.Service, schema, table string) access {
	if schema == dbroles.KeysSchema && s.Keys != dbroles.NoKeys {
		return readWrite
	}
	if slices.Contains(s.Owns, schema) {
		return readWrite
	}
	for _, rd := range s.Reads {
		if rd.Schema == schema && (rd.Table == "" || rd.Table == table) {
			return read
		}
	}
	return none
}

// tables lists every table the test made: each schema's probe (the keys
// schema's too) and the tables of explicit reads.
func tables() [][2]string {
	var out [][2]string
	for _, schema := range append(dbroles.Schemas(), dbroles.KeysSchema) {
		out = append(out, [2]string{schema, "probe"})
	}
	for _, s := range dbroles.Services {
		for _, rd := range s.Reads {
			if rd.Table != "" {
				out = append(out, [2]string{rd.Schema, rd.Table})
			}
		}
	}
	return out
}

// TestEachRoleTouchesOnlyItsOwnSchemas is the table of every service's
// role against every schema's tables: each reads and writes its own, reads
// only what the table grants it, and is refused (permission denied)
// everything else.
func TestEachRoleTouchesOnlyItsOwnSchemas(t *testing.T) {
	_, roles, urls := newRoles(t)
	migrateAsOwner(t, roles, urls.Owner)
	for _, s := range dbroles.Services {
		conn := pgtest.Connect(t, urls.Services[s.Name])
		for _, tbl := range tables() {
			name := tbl[0] + "." + tbl[1]
			t.Run(s.Name+"/"+name, func(t *testing.T) {
				wanted := want(s, tbl[0], tbl[1])
				_, errRead := conn.Exec(t.Context(), "SELECT count(*) FROM "+name)
				_, errWrite := conn.Exec(t.Context(), "INSERT INTO "+name+" DEFAULT VALUES")
				checkAllowed(t, "SELECT", errRead, wanted >= read)
				checkAllowed(t, "INSERT", errWrite, wanted == readWrite)
			})
		}
	}
}

func checkAllowed(t *testing.T, what string, err error, allowed bool) {
	t.Helper()
	if allowed {
		if err != nil {
			t.Errorf("%s: %v; want allowed", what, err)
		}
		return
	}
	if !denied(err) {
		t.Errorf("%s: err %v; want permission denied (42501)", what, err)
	}
}

func denied(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "42501"
}

// TestServiceRolesCannotChangeTheSchema: a service's role cannot create,
// alter, truncate or drop anything, even in its own schema, nor make a
// schema; only the owner can.
func TestServiceRolesCannotChangeTheSchema(t *testing.T) {
	_, roles, urls := newRoles(t)
	migrateAsOwner(t, roles, urls.Owner)
	conn := pgtest.Connect(t, urls.Services["ledger"])
	for _, stmt := range []string{
		"CREATE TABLE ledger.mine (id int)",
		"ALTER TABLE ledger.probe ADD COLUMN x int",
		"TRUNCATE ledger.probe",
		"DROP TABLE ledger.probe",
		"CREATE SCHEMA mine",
		"CREATE TABLE public.mine (id int)",
	} {
		if _, err := conn.Exec(t.Context(), stmt); !denied(err) && !notOwner(err) {
			t.Errorf("as %s: %s: err %v; want refused", roles.Of("ledger"), stmt, err)
		}
	}
	if _, err := pgtest.Connect(t, urls.Owner).Exec(t.Context(), "ALTER TABLE ledger.probe ADD COLUMN x int"); err != nil {
		t.Errorf("as the owner: %v", err)
	}
}

// notOwner is 42501 under another name: "must be owner of table".
func notOwner(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && strings.Contains(pg.Message, "must be owner")
}

// TestSetupTakesOverTablesMadeBefore: a database whose services migrated
// as one all-powerful role, before the roles existed, is handed to the
// owner by the set-up, so that the next migration and the services' own
// roles work on it.
func TestSetupTakesOverTablesMadeBefore(t *testing.T) {
	dbURL, roles, urls := newRoles(t,
		"CREATE SCHEMA intake",
		"CREATE TABLE intake.legacy (id bigserial PRIMARY KEY)",
		"CREATE FUNCTION intake.f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
	var tableOwner, fnOwner string
	err := pgtest.Connect(t, dbURL).QueryRow(t.Context(), `SELECT
		(SELECT tableowner FROM pg_tables WHERE schemaname = 'intake' AND tablename = 'legacy'),
		(SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'f' AND pronamespace = 'intake'::regnamespace)`).
		Scan(&tableOwner, &fnOwner)
	if err != nil {
		t.Fatal(err)
	}
	if tableOwner != roles.Owner() || fnOwner != roles.Owner() {
		t.Errorf("owners after set-up: table %s, function %s; want %s", tableOwner, fnOwner, roles.Owner())
	}
	if _, err := pgtest.Connect(t, urls.Services["intake"]).Exec(t.Context(), "INSERT INTO intake.legacy DEFAULT VALUES"); err != nil {
		t.Errorf("intake's role on the table made before: %v", err)
	}
	if _, err := pgtest.Connect(t, urls.Owner).Exec(t.Context(), "ALTER TABLE intake.legacy ADD COLUMN x int"); err != nil {
		t.Errorf("the owner migrating the table made before: %v", err)
	}
}

// TestShippedSQL keeps deploy/postgres/roles.sql what `lantern db grants`
// prints for the default roles; go test -run TestShippedSQL -update
// rewrites it.
func TestShippedSQL(t *testing.T) {
	stmts, err := dbroles.Roles{Prefix: dbroles.DefaultPrefix}.Setup("lantern")
	if err != nil {
		t.Fatal(err)
	}
	got := dbroles.Script("lantern", stmts)
	path := filepath.Join("..", "..", "deploy", "postgres", "roles.sql")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shipped, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(shipped) != got {
		t.Errorf("%s is not what the role table gives; run go test ./pkg/dbroles -run TestShippedSQL -update", path)
	}
}

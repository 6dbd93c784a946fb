// Package pgtest gives every test a real PostgreSQL database of its own.
//
// The server is found once per test process, in this order: DATABASE_URL when
// it is set; a container started with testcontainers when a container engine
// answers; otherwise a throwaway server started from the local binaries with
// pglocal. A test never skips because PostgreSQL is missing.
//
// Each test calls NewDatabase (or NewPool, for a pool on it), which clones
// a template database that was migrated once per process, and drops the
// clone when the test ends. A package's TestMain calls Main, so that the
// server and the templates are cleaned up when its tests finish:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jackc/pgx/v5"
)

const (
	// startTimeout bounds finding or starting the server, including the
	// first pull of a container image.
	startTimeout = 5 * time.Minute
	// adminTimeout bounds each administrative statement (create, drop).
	adminTimeout = time.Minute
)

// Main runs the package's tests, then stops the server this process started
// and drops the template databases it made, and exits with the tests' code.
func Main(m *testing.M) {
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: cleaning up: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// URL returns the administrative connection string of the shared server.
// Tests that need a database of their own use NewDatabase instead.
func URL(t testing.TB) string {
	t.Helper()
	return mustServer(t).adminURL
}

// Migrate prepares a template database at url. It must close every
// connection it opened before it returns, because PostgreSQL copies a
// template only while nobody is connected to it.
type Migrate func(ctx context.Context, url string) error

// NewDatabase creates a database for this test alone and returns its URL.
// The database is a copy of the template called template, which migrate
// prepared the first time this process asked for that name; a nil migrate
// gives an empty database. The database is dropped, with any connections
// still open to it, when the test ends.
func NewDatabase(t testing.TB, template string, migrate Migrate) string {
	t.Helper()
	srv := mustServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	stmt := "CREATE DATABASE %s"
	if migrate != nil {
		tpl, err := srv.template(ctx, template, migrate)
		if err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		stmt += " TEMPLATE " + pgx.Identifier{tpl}.Sanitize()
	}
	name := uniqueName("test")
	if err := srv.exec(ctx, fmt.Sprintf(stmt, pgx.Identifier{name}.Sanitize())); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		if err := srv.dropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return databaseURL(srv.adminURL, name)
}

// server is the PostgreSQL server shared by every test in the process.
type server struct {
	adminURL string
	stop     func(context.Context) error

	mu        sync.Mutex
	templates map[string]*templateDB
}

// templateDB is one migrated template, made at most once per process.
type templateDB struct {
	mu   sync.Mutex
	done bool
	name string
	err  error
}

var (
	shared    *server
	sharedErr error
	sharedMu  sync.Mutex
)

// mustServer finds or starts the shared server the first time it is asked
// for, and fails the test if that fails. A failure is remembered so that
// later tests fail at once with the same reason.
func mustServer(t testing.TB) *server {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		shared, sharedErr = startServer(ctx)
	}
	if sharedErr != nil {
		t.Fatalf("pgtest: no PostgreSQL server: %v", sharedErr)
	}
	return shared
}

func shutdown() error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	err := shared.dropTemplates(ctx)
	if shared.stop != nil {
		if stopErr := shared.stop(ctx); stopErr != nil {
			err = fmt.Errorf("stopping PostgreSQL: %w", stopErr)
		}
	}
	shared = nil
	return err
}

// template returns the name of the migrated template for key, making it on
// first use. Parallel tests that ask for the same key wait for one another.
func (s *server) template(ctx context.Context, key string, migrate Migrate) (string, error) {
	s.mu.Lock()
	tpl, ok := s.templates[key]
	if !ok {
		tpl = &templateDB{}
		s.templates[key] = tpl
	}
	s.mu.Unlock()

	tpl.mu.Lock()
	defer tpl.mu.Unlock()
	if !tpl.done {
		tpl.name, tpl.err = s.makeTemplate(ctx, key, migrate)
		tpl.done = true
	}
	return tpl.name, tpl.err
}

// makeTemplate creates and migrates a template, then forbids connections to
// it: a leftover connection would make every later copy fail.
func (s *server) makeTemplate(ctx context.Context, key string, migrate Migrate) (string, error) {
	name := uniqueName("tpl_" + identifierPart(key))
	if err := s.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("creating template %q: %w", key, err)
	}
	// From here on the name is returned even on failure, so that
	// dropTemplates removes the half-made database.
	if err := migrate(ctx, databaseURL(s.adminURL, name)); err != nil {
		return name, fmt.Errorf("migrating template %q: %w", key, err)
	}
	if err := s.exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return name, fmt.Errorf("closing template %q: %w", key, err)
	}
	if err := s.exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		return name, fmt.Errorf("disconnecting from template %q: %w", key, err)
	}
	return name, nil
}

func (s *server) dropTemplates(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, tpl := range s.templates {
		if tpl.name == "" {
			continue
		}
		if err := s.dropDatabase(ctx, tpl.name); err != nil {
			return fmt.Errorf("dropping template %q: %w", key, err)
		}
	}
	s.templates = map[string]*templateDB{}
	return nil
}

func (s *server) dropDatabase(ctx context.Context, name string) error {
	if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %s: %w", name, err)
	}
	return nil
}

// exec runs one statement on a connection of its own. CREATE and DROP
// DATABASE cannot run inside a transaction, and a short-lived connection
// keeps no state between tests.
func (s *server) exec(ctx context.Context, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return fmt.Errorf("connecting to the admin database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return err
	}
	return nil
}

// databaseURL is adminURL pointed at another database on the same server.
func databaseURL(adminURL, database string) string {
	u, err := url.Parse(adminURL)
	if err != nil {
		// adminURL was parsed and used to connect before any database
		// is made, so this cannot happen.
		panic(fmt.Sprintf("pgtest: parsing admin URL: %v", err))
	}
	u.Path = "/" + database
	u.RawPath = ""
	return u.String()
}

// uniqueName is prefix plus a random suffix, so that test processes
// sharing one server (through DATABASE_URL) never collide.
func uniqueName(prefix string) string {
	return prefix + "_" + strings.ToLower(rand.Text())
}

var notIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

// identifierPart turns a template key into characters that are safe in an
// unquoted identifier, short enough to leave room for the random suffix
// within PostgreSQL's 63-byte limit.
func identifierPart(key string) string {
	part := notIdentifier.ReplaceAllString(strings.ToLower(key), "_")
	const maxLen = 24
	if len(part) > maxLen {
		part = part[:maxLen]
	}
	return part
}

// WithPool is a Migrate that runs steps, in order, on a pool of the
// template database, for migrations written against a pool.
func WithPool(steps ...func(ctx context.Context, pool *pgxpool.Pool) error) Migrate {
	return func(ctx context.Context, url string) error {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return err
		}
		defer pool.Close()
		for _, step := range steps {
			if err := step(ctx, pool); err != nil {
				return err
			}
		}
		return nil
	}
}

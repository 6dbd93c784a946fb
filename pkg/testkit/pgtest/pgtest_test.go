package pgtest_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func databaseName(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parsing %s: %v", dbURL, err)
	}
	return u.Path[1:]
}

// seedNotes is a migration that leaves one row behind, so that a clone
// shows whether it was made from the migrated template.
func seedNotes(calls *atomic.Int32) pgtest.Migrate {
	return func(ctx context.Context, dbURL string) error {
		calls.Add(1)
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return fmt.Errorf("connecting: %w", err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
			INSERT INTO notes VALUES (1, 'from the template')`)
		return err
	}
}

func notes(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	return pgtest.Strings(t, conn, "SELECT body FROM notes ORDER BY id")
}

func TestEachTestGetsItsOwnCopyOfTheTemplate(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	migrate := seedNotes(&calls)

	for _, name := range []string{"first", "second", "third"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn := pgtest.Connect(t, pgtest.NewDatabase(t, "notes", migrate))
			if _, err := conn.Exec(t.Context(), "INSERT INTO notes VALUES (2, $1)", name); err != nil {
				t.Fatalf("inserting: %v", err)
			}

			want := []string{"from the template", name}
			if diff := cmp.Diff(want, notes(t, conn)); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
	t.Cleanup(func() {
		if got := calls.Load(); got != 1 {
			t.Errorf("migrate ran %d times for one template name, want 1", got)
		}
	})
}

func TestDatabaseIsDroppedWhenTheTestEnds(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("user", func(t *testing.T) {
		dbURL := pgtest.NewDatabase(t, "", nil)
		name = databaseName(t, dbURL)
		// A connection still open at the end must not stop the drop.
		pgtest.Connect(t, dbURL)
	})

	var exists bool
	err := pgtest.Connect(t, pgtest.URL(t)).QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		t.Fatalf("looking for %s: %v", name, err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestNilMigrateGivesAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	conn := pgtest.Connect(t, pgtest.NewDatabase(t, "", nil))

	var tables int
	err := conn.QueryRow(t.Context(),
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables)
	if err != nil {
		t.Fatalf("counting tables: %v", err)
	}
	if tables != 0 {
		t.Errorf("new empty database has %d tables in public, want 0", tables)
	}
}

func TestTemplateSurvivesAMigrationThatLeavesAConnectionOpen(t *testing.T) {
	t.Parallel()
	var leaked *pgx.Conn
	t.Cleanup(func() {
		if leaked != nil {
			_ = leaked.Close(context.Background())
		}
	})
	careless := func(ctx context.Context, dbURL string) error {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return fmt.Errorf("connecting: %w", err)
		}
		leaked = conn
		_, err = conn.Exec(ctx, "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
		return err
	}

	conn := pgtest.Connect(t, pgtest.NewDatabase(t, "careless", careless))

	if diff := cmp.Diff([]string{}, notes(t, conn)); diff != "" {
		t.Errorf("notes in a clone of the careless template (-want +got):\n%s", diff)
	}
}

func TestURLNamesALiveServer(t *testing.T) {
	t.Parallel()
	adminURL := pgtest.URL(t)

	var one int
	if err := pgtest.Connect(t, adminURL).QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("querying the server: %v", err)
	}
	if os.Getenv("DATABASE_URL") == "" {
		u, err := url.Parse(adminURL)
		if err != nil {
			t.Fatalf("parsing %s: %v", adminURL, err)
		}
		if u.Port() == "5432" {
			t.Errorf("URL() = %s: a started server must not take the machine's own port", adminURL)
		}
	}
}

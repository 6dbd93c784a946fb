package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// NewPool is NewDatabase with a pool on the new database, opened as the
// services open theirs; it returns the database's URL too, for a test that
// connects again.
func NewPool(t testing.TB, template string, migrate Migrate) (string, *pgxpool.Pool) {
	t.Helper()
	url := NewDatabase(t, template, migrate)
	return url, Open(t, url)
}

// Open opens a pool on the test database at url, closed when the test
// ends.
func Open(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgdb.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("opening the test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Connect opens one connection to the database at url, closed when the
// test ends, for a test that needs a session of its own.
func Connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

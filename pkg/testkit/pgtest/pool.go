package pgtest

import (
	"context"
	"testing"

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

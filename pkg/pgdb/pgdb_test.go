package pgdb_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestOpenWaitsForAServerButNotForAMissingDatabase(t *testing.T) {
	live := pgtest.NewDatabase(t, "empty", nil)
	pool, err := pgdb.Open(t.Context(), live)
	if err != nil {
		t.Fatalf("opening a database that exists: %v", err)
	}
	pool.Close()

	missing, err := url.Parse(live)
	if err != nil {
		t.Fatal(err)
	}
	missing.Path = "/no_such_database"
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = pgdb.Open(ctx, missing.String())
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		t.Fatalf("Open(missing database) = %v, want the server's 3D000 answer", err)
	}
	if ctx.Err() != nil {
		t.Error("Open waited for its context to end instead of answering at once")
	}
}

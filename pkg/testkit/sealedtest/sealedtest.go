// Package sealedtest gives tests a real sealer: a fresh file key-encryption
// key in the test's temporary directory and the keys table in the test's
// own database.
package sealedtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
)

// New returns a sealer on pool under a new file KEK, creating the keys
// schema in pool's database if it is not there yet.
func New(t testing.TB, pool *pgxpool.Pool) *sealed.Sealer {
	t.Helper()
	if err := sealed.Migrate(context.Background(), pool); err != nil {
		t.Fatalf("sealedtest: %v", err)
	}
	return Unmigrated(t, pool)
}

// Unmigrated returns a sealer on pool under a new file KEK without touching
// the database: for tests of a database that cannot be reached.
func Unmigrated(t testing.TB, pool *pgxpool.Pool) *sealed.Sealer {
	t.Helper()
	kek, err := sealed.CreateFileKEK(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatalf("sealedtest: %v", err)
	}
	return sealed.New(pool, sealed.NewKeyring(kek), clock.System)
}

// Package ledgertest gives tests the ledger service's own store, migrated
// as the service migrates it at start-up, and hands it events as the
// service's consumer does.
package ledgertest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/ledger"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// New returns the ledger on pool, migrated, sealing personal fields with
// sealer and stamping entries with clk's time.
func New(t testing.TB, pool *pgxpool.Pool, sealer *sealed.Sealer, clk clock.Clock) *ledger.Ledger {
	t.Helper()
	l := ledger.New(pool, sealer, clk, zaptest.NewLogger(t))
	if err := l.Migrate(context.Background()); err != nil {
		t.Fatalf("migrating the ledger: %v", err)
	}
	return l
}

// HandleAll hands each event to l in order, failing the test at the first
// the ledger does not take.
func HandleAll(t testing.TB, l *ledger.Ledger, pubs []projectiontest.Published) {
	t.Helper()
	for _, p := range pubs {
		if err := l.Handle(context.Background(), p.Event); err != nil {
			t.Fatalf("handling %s %s: %v", p.Event.Type(), p.Event.ID(), err)
		}
	}
}

// Figures is the digest of the projections on pool, for a test to compare
// with what a change that must not move them leaves.
func Figures(t testing.TB, pool *pgxpool.Pool) projection.Digest {
	t.Helper()
	d, err := projection.DigestDatabase(context.Background(), pool)
	if err != nil {
		t.Fatalf("digesting the projections: %v", err)
	}
	return d
}

// CheckShredded requires what shredding must leave on pool: a chain that
// still verifies, whose result it returns, and the projections' figures
// as they were before.
func CheckShredded(t testing.TB, pool *pgxpool.Pool, before projection.Digest) auditlog.Result {
	t.Helper()
	res, err := auditlog.VerifyDatabase(context.Background(), pool, auditlog.VerifyOptions{})
	if err != nil || res.Problem != nil {
		t.Errorf("verify after shredding: %+v, %v", res, err)
	}
	if diff := cmp.Diff(before, Figures(t, pool)); diff != "" {
		t.Errorf("the figures changed with the shredding (-before +after):\n%s", diff)
	}
	return res
}

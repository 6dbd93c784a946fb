// Package ledgertest gives tests the ledger service's own store, migrated
// as the service migrates it at start-up, and hands it events as the
// service's consumer does.
package ledgertest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/ledger"
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

package projectiontest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// Template is the pgtest template of a database with the ledger and the
// projection tables, both empty.
const Template = "ledger-and-projections"

// MigrateTemplate prepares that template.
var MigrateTemplate = pgtest.WithPool(auditlog.Migrate, projection.Migrate)

// NewDatabase returns a database of the test's own with both schemas, and
// a pool on it.
func NewDatabase(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	return pgtest.NewPool(t, Template, MigrateTemplate)
}

// Record appends each event to the ledger and refreshes its incident's
// projections in the same transaction, as the ledger service does.
func Record(t testing.TB, pool *pgxpool.Pool, evs ...Published) {
	t.Helper()
	ctx := context.Background()
	for _, p := range evs {
		err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { return recordOne(ctx, tx, p) })
		if err != nil {
			t.Fatalf("recording %s: %v", p.Event.ID(), err)
		}
	}
}

func recordOne(ctx context.Context, tx pgx.Tx, p Published) error {
	entry, err := auditlog.EntryOf(p.Event, p.Subject, p.Event.Time())
	if err != nil {
		return err
	}
	_, _, err = projection.AppendAndProject(ctx, tx, entry)
	return err
}

// All returns the events of every incident, incident by incident.
func All(incidents []*Incident) []Published {
	var out []Published
	for _, in := range incidents {
		out = append(out, in.Events()...)
	}
	return out
}

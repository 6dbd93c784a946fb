// Package auditlogtest gives tests a real, migrated ledger database and
// appends events to it through the same code the ledger service uses.
package auditlogtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// Template is the pgtest template name of a migrated, empty ledger.
const Template = "auditlog-ledger"

// MigrateTemplate prepares a pgtest template with the ledger's schema.
var MigrateTemplate = pgtest.WithPool(auditlog.Migrate)

// NewLedger returns the URL of a database of the test's own with an empty
// ledger, and a pool on it closed when the test ends.
func NewLedger(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	return pgtest.NewPool(t, Template, MigrateTemplate)
}

// Append appends each event, as received on subject at recordedAt, and
// returns the stored entries.
func Append(t testing.TB, pool *pgxpool.Pool, subject string, recordedAt time.Time, evs ...cloudevent.Event) []auditlog.Entry {
	t.Helper()
	var out []auditlog.Entry
	for _, e := range evs {
		entry, err := auditlog.EntryOf(e, subject, recordedAt)
		if err != nil {
			t.Fatal(err)
		}
		err = pgdb.InTx(context.Background(), pool, func(tx pgx.Tx) error {
			entry, _, err = auditlog.Append(context.Background(), tx, entry)
			return err
		})
		if err != nil {
			t.Fatalf("appending %s: %v", e.ID(), err)
		}
		out = append(out, entry)
	}
	return out
}

// Tamper runs statements as a superuser would, with the ledger's
// append-only triggers switched off for the session, as an attacker with
// full access to the database can.
func Tamper(t testing.TB, url string, fn func(ctx context.Context, conn *pgx.Conn) error) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to tamper: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatalf("switching off triggers: %v", err)
	}
	if err := fn(ctx, conn); err != nil {
		t.Fatalf("tampering: %v", err)
	}
}

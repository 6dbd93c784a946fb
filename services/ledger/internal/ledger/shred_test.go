package ledger_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/ledgertest"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// TestShreddingKeepsTheChainTheFiguresAndTheReplay is fault F20's
// property: once an incident's key is destroyed its personal data cannot
// be read even with the key-encryption key, while the chain still
// verifies, the projections' figures are what they were, and a replay of
// the ledger gives the live digest.
func TestShreddingKeepsTheChainTheFiguresAndTheReplay(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	ctx := context.Background()
	sealer := sealedtest.New(t, pool)
	l := ledgertest.New(t, pool, sealer, clock.NewFake(t0))
	incidents := pt.Simulate(t, 3, t0, 7)
	pubs := pt.All(incidents)
	ledgertest.HandleAll(t, l, pubs)
	victim := incidents[0].Events()[0]
	names := personalStrings(t, victim.Event.Data())
	if len(names) == 0 {
		t.Fatal("the simulated incident has no personal strings: the test would prove nothing")
	}
	id := victim.Event.Extensions()[events.ExtIncidentID].(string)
	stored := storedData(t, pool, victim.Event.ID())
	for _, n := range names {
		if bytes.Contains(stored, []byte(n)) {
			t.Fatalf("the ledger holds %q in clear", n)
		}
	}
	before := ledgertest.Figures(t, pool)

	if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { _, err := sealer.Shred(ctx, tx, id, t0); return err }); err != nil {
		t.Fatal(err)
	}
	// Redelivered after shredding: nothing new is kept, nothing breaks.
	for _, p := range incidents[0].Events() {
		if err := l.Handle(ctx, p.Event); err != nil {
			t.Fatal(err)
		}
	}
	opened, shredded, err := sealer.OpenFields(ctx, id, stored)
	if err != nil || !shredded {
		t.Fatalf("opening after shredding: shredded %v, %v", shredded, err)
	}
	for _, n := range names {
		if bytes.Contains(opened, []byte(n)) {
			t.Errorf("%q still opens after shredding", n)
		}
	}
	if !bytes.Contains(opened, []byte(sealed.Removed)) {
		t.Errorf("the shredded fields do not read as removed: %s", opened)
	}
	if res := ledgertest.CheckShredded(t, pool, before); res.Entries != int64(len(pubs)) {
		t.Errorf("verify after shredding: %d entries, want %d", res.Entries, len(pubs))
	}
	// Replay: every incident's rows rebuilt from the ledger alone.
	if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error {
		for _, in := range incidents {
			if err := projection.RefreshIncident(ctx, tx, in.Events()[0].Event.Extensions()[events.ExtIncidentID].(string)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	replayed, err := projection.DigestDatabase(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, replayed); diff != "" {
		t.Errorf("replay from the ledger after shredding differs from live (-live +replayed):\n%s", diff)
	}
}

// personalStrings are the non-empty values of the personal keys in data.
func personalStrings(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	for _, key := range []string{`"name":"`, `"date_of_birth":"`, `"voice_of_child":"`, `"circumstances":"`} {
		for rest := string(data); ; {
			i := strings.Index(rest, key)
			if i < 0 {
				break
			}
			rest = rest[i+len(key):]
			if v := rest[:strings.Index(rest, `"`)]; len(v) > 3 {
				out = append(out, v)
			}
		}
	}
	return out
}

func storedData(t *testing.T, pool interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, eventID string) []byte {
	t.Helper()
	var raw []byte
	if err := pool.QueryRow(context.Background(), `SELECT event FROM ledger.entries WHERE event_id = $1`, eventID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	e, err := auditlog.Entry{Event: raw}.CloudEvent()
	if err != nil {
		t.Fatal(err)
	}
	return e.Data()
}

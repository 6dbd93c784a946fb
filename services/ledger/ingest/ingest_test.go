package ingest_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/ingest"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/ledger"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/ledgertest"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 3, 28, 22, 40, 0, 0, time.UTC)

// newLedger is a database with the ledger's schemas and a sealer on it.
func newLedger(t *testing.T) (*pgxpool.Pool, *sealed.Sealer) {
	t.Helper()
	_, pool := pt.NewDatabase(t)
	sealer := sealedtest.New(t, pool)
	ledgertest.New(t, pool, sealer, clock.NewFake(t0))
	return pool, sealer
}

// TestBatchesLeaveWhatOneAtATimeLeaves appends one history twice: event by
// event through the ledger service's handler, and in batches of random
// sizes, with redeliveries inside a batch and across batches, incidents
// split over several batches and one incident shredded half way. Both
// ledgers verify, hold each event once with its personal fields sealed,
// and have the same projections; a rebuild of the batched ledger into an
// empty database gives them too.
func TestBatchesLeaveWhatOneAtATimeLeaves(t *testing.T) {
	ctx := context.Background()
	incidents := pt.Simulate(t, 40, t0, 11)
	pubs := shuffled(pt.All(incidents), 5)
	victim := cloudevent.IncidentID(incidents[3].Events()[0].Event)
	half := len(pubs) / 2

	onePool, oneSealer := newLedger(t)
	one := ledger.New(onePool, oneSealer, clock.NewFake(t0), zaptest.NewLogger(t))
	for i, p := range pubs {
		if i == half {
			shred(t, onePool, oneSealer, victim)
		}
		if err := one.Handle(ctx, p.Event); err != nil {
			t.Fatal(err)
		}
	}

	pool, sealer := newLedger(t)
	app := ingest.New(pool, sealer, clock.NewFake(t0))
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(pubs); {
		if i >= half && i < half+40 {
			// Shred once, when the cut passes the half.
			shred(t, pool, sealer, victim)
		}
		n := min(1+r.IntN(30), len(pubs)-i)
		if i < half && i+n > half {
			n = half - i
		}
		batch := received(pubs[i : i+n])
		// A redelivery of the batch's first event inside the batch,
		// and of an event appended earlier.
		batch = append(batch, batch[0])
		if i > 0 {
			batch = append(batch, received(pubs[r.IntN(i):][:1])...)
		}
		if _, err := app.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
		i += n
	}

	for name, p := range map[string]*pgxpool.Pool{"one at a time": onePool, "batched": pool} {
		res, err := auditlog.VerifyDatabase(ctx, p, auditlog.VerifyOptions{})
		if err != nil || res.Problem != nil || res.Entries != int64(len(pubs)) {
			t.Errorf("%s: verify: %d entries of %d, problem %v, %v", name, res.Entries, len(pubs), res.Problem, err)
		}
	}
	assertSealed(t, pool, incidents[0].Events()[0])
	want := digest(t, onePool)
	if diff := cmp.Diff(want, digest(t, pool)); diff != "" {
		t.Errorf("batched projections differ from one at a time (-one +batched):\n%s", diff)
	}
	if want.Tables[0].Rows != int64(len(incidents)) {
		t.Fatalf("the projections hold %d incidents of %d: the comparison proves little", want.Tables[0].Rows, len(incidents))
	}

	_, target := pt.NewDatabase(t)
	var got projection.Rebuilt
	err := pgdb.InTx(ctx, target, func(tx pgx.Tx) error {
		var err error
		got, err = projection.Rebuild(ctx, pool, tx, 0, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Read != int64(len(pubs)) || got.Unreadable != 0 {
		t.Errorf("rebuild read %+v, want %d events", got, len(pubs))
	}
	if diff := cmp.Diff(want, digest(t, target)); diff != "" {
		t.Errorf("rebuilt projections differ from live (-live +rebuilt):\n%s", diff)
	}
}

func received(pubs []pt.Published) []ingest.Received {
	out := make([]ingest.Received, len(pubs))
	for i, p := range pubs {
		out[i] = ingest.Received{Event: p.Event, Subject: p.Subject}
	}
	return out
}

// shuffled interleaves the incidents' events as a busy stream would, each
// incident's own events kept in order.
func shuffled(pubs []pt.Published, seed uint64) []pt.Published {
	out := append([]pt.Published(nil), pubs...)
	r := rand.New(rand.NewPCG(seed, seed))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func shred(t *testing.T, pool *pgxpool.Pool, sealer *sealed.Sealer, id string) {
	t.Helper()
	ctx := context.Background()
	if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { _, err := sealer.Shred(ctx, tx, id, t0); return err }); err != nil {
		t.Fatal(err)
	}
}

func digest(t *testing.T, pool *pgxpool.Pool) projection.Digest {
	t.Helper()
	d, err := projection.DigestDatabase(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// assertSealed checks that the stored copy of a reported notice holds none
// of its names in clear.
func assertSealed(t *testing.T, pool *pgxpool.Pool, p pt.Published) {
	t.Helper()
	var raw []byte
	if err := pool.QueryRow(context.Background(), `SELECT event FROM ledger.entries WHERE event_id = $1`, p.Event.ID()).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(p.Event.Data(), []byte("Test Victim")) {
		t.Fatal("the simulated notice names no victim: the test would prove nothing")
	}
	e, err := auditlog.Entry{Event: raw}.CloudEvent()
	if err != nil {
		t.Fatal(err)
	}
	if stored := e.Data(); bytes.Contains(stored, []byte("Test Victim")) || !bytes.Contains(stored, []byte("sealed:v1:")) {
		t.Errorf("the ledger's copy of %s is not sealed: %.300s", p.Event.ID(), stored)
	}
}

package ledger_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/ledger"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/ledgertest"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC)

func TestHandleAppendsOnceAndKeepsProjectionsCurrent(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	ctx := context.Background()
	l := ledgertest.New(t, pool, sealedtest.New(t, pool), clock.NewFake(t0))
	var told []int64
	l.OnAppend(func(seq int64) { told = append(told, seq) })
	pubs := pt.All(pt.Simulate(t, 2, t0, 5))
	for _, p := range append(pubs, pubs[0], pubs[1]) { // the first two redelivered
		if err := l.Handle(ctx, p.Event); err != nil {
			t.Fatalf("Handle(%s): %v", p.Event.Type(), err)
		}
	}
	if len(told) != len(pubs) || told[len(told)-1] != int64(len(pubs)) {
		t.Errorf("appends told = %v, want 1..%d once each", told, len(pubs))
	}
	var facts []projection.Fact
	for _, p := range pubs {
		f, _, _ := projection.FactOf(p.Event)
		facts = append(facts, f)
	}
	live, err := projection.DigestDatabase(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(projection.DigestOf(projection.Project(facts)), live); diff != "" {
		t.Errorf("projections kept by Handle (-rebuilt +kept):\n%s", diff)
	}
	res, err := auditlog.VerifyDatabase(ctx, pool, auditlog.VerifyOptions{})
	if err != nil || res.Problem != nil || res.Entries != int64(len(pubs)) {
		t.Errorf("verify: %+v, %v", res, err)
	}
}

func TestHandleDeadLettersAnEventWithoutIncident(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	l := ledger.New(pool, sealedtest.New(t, pool), clock.NewFake(t0), zaptest.NewLogger(t))
	e := pt.NewIncident(t, pt.IncidentID(1)).Reported(t0, "high", false).Events()[0].Event
	e.SetExtension(events.ExtIncidentID, "")
	if err := l.Handle(context.Background(), e); !bus.IsPermanent(err) {
		t.Errorf("Handle() = %v, want a permanent error", err)
	}
}

// TestLedgerConformsToTheConsumerSuite: the ledger records every event on
// the bus as it came, so what it must refuse is an event it cannot file: one
// that names no incident.
func TestLedgerConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		_, pool := pt.NewDatabase(t)
		l := ledgertest.New(t, pool, sealedtest.New(t, pool), clock.NewFake(t0))
		return conformance.Consumer{Handler: l.Handle, Subjects: []string{bus.EventsSubjects},
			Digest: conformance.SchemaDigest(pool, ledger.Schema, projection.Schema), Invalid: withoutIncident,
			Batch: l.ConsumerSpec(config.Consumer{}).Batch}
	}, conformance.Simulated(t, 6, 14))
}

func withoutIncident(m conformance.Message) conformance.Message {
	e := m.Event.Clone()
	e.SetID(cloudevent.DeriveID(m.Event.ID(), "no-incident"))
	e.SetExtension(events.ExtIncidentID, nil)
	return conformance.Message{Event: e, Subject: m.Subject}
}

// TestAppendsOfOneBatchChainOnFromOneHead applies a simulated month's
// events in batches sharing a transaction each, as the ledger's consumer
// does, and requires an unbroken chain with every event once, the head
// where the last append left it and the projections up to it.
func TestAppendsOfOneBatchChainOnFromOneHead(t *testing.T) {
	t.Parallel()
	_, pool := pt.NewDatabase(t)
	l := ledgertest.New(t, pool, sealedtest.New(t, pool), clock.NewFake(t0))
	var told []int64
	l.OnAppend(func(seq int64) { told = append(told, seq) })
	msgs := conformance.Simulated(t, 8, 21)
	const size = 25
	for start := 0; start < len(msgs); start += size {
		sh, err := pgdb.Begin(t.Context(), pool)
		if err != nil {
			t.Fatal(err)
		}
		ctx := sh.Context(t.Context())
		part := msgs[start:min(start+size, len(msgs))]
		for _, m := range slices.Concat(part, part[:1]) { // the batch's first event twice
			if err := l.Handle(bus.WithSubject(ctx, m.Subject), m.Event); err != nil {
				t.Fatal(err)
			}
		}
		if len(told) != start {
			t.Fatalf("the checkpointer was told of %d appends before the batch committed, want %d", len(told), start)
		}
		if err := sh.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	res, err := auditlog.VerifyDatabase(t.Context(), pool, auditlog.VerifyOptions{})
	if err != nil || res.Problem != nil {
		t.Fatalf("the chain does not verify after batched appends: %v %v", err, res.Problem)
	}
	head, err := auditlog.ReadHead(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if head.Seq != int64(len(msgs)) || len(told) != len(msgs) || told[len(told)-1] != head.Seq {
		t.Errorf("head at %d, %d appends told (last %v), after %d events (verified %+v)", head.Seq, len(told), told[len(told)-1:], len(msgs), res)
	}
	projected, err := projection.ProjectedSeq(t.Context(), pool)
	if err != nil || projected != head.Seq {
		t.Errorf("projections reach %d (%v), want the head, %d", projected, err, head.Seq)
	}
}

package retention_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	policy "github.com/lantern-safeguarding/lantern/pkg/retention"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/retention"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/ledgertest"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)

// TestSchedulerShredsDueIncidentsOnceAndLeavesHeldOnes runs the scheduler
// on an injected clock: nothing is due at first; a year and more later
// every incident is, one is on legal hold, and two runs shred each of the
// others exactly once, recording incident.shredded in a chain that still
// verifies, with the projections' figures unchanged.
func TestSchedulerShredsDueIncidentsOnceAndLeavesHeldOnes(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	ctx := context.Background()
	clk := clock.NewFake(t0)
	sealer := sealedtest.New(t, pool)
	l := ledgertest.New(t, pool, sealer, clk)
	incidents := pt.Simulate(t, 4, t0, 11)
	ledgertest.HandleAll(t, l, pt.All(incidents))
	s := &retention.Scheduler{Pool: pool, Sealer: sealer, Policy: policy.Default(), Clock: clk}
	if due, err := s.Plan(ctx); err != nil || len(due) != 0 {
		t.Fatalf("Plan on the day = %v, %v; want nothing due", due, err)
	}
	figures := ledgertest.Figures(t, pool)

	held := idOf(incidents[1])
	if err := retention.Hold(ctx, pool, held, "mash-worker-1", "mash_worker", "wants it", t0); !errors.Is(err, retention.ErrNotAllowed) {
		t.Errorf("a MASH worker's hold: err %v, want ErrNotAllowed", err)
	}
	if err := retention.Hold(ctx, pool, held, "auditor-1", "auditor", "subject access request in progress", t0); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(400 * policy.Day))
	dry, err := s.Run(ctx, true, nil)
	if err != nil || dry != (retention.Result{Due: 4, Held: 1}) {
		t.Fatalf("dry run = %+v, %v; want 4 due, 1 held, none shredded", dry, err)
	}
	var progress []int
	first, err := s.Run(ctx, false, func(done, total int) { progress = append(progress, done) })
	if err != nil || first != (retention.Result{Due: 4, Shredded: 3, Held: 1}) {
		t.Fatalf("first run = %+v, %v; want 3 shredded, 1 held", first, err)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	second, err := s.Run(ctx, false, nil)
	if err != nil || second.Shredded != 0 {
		t.Errorf("second run = %+v, %v; want nothing shredded again", second, err)
	}

	var recorded int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger.entries WHERE event_type = $1`, string(events.IncidentShredded)).Scan(&recorded); err != nil || recorded != 3 {
		t.Errorf("incident.shredded entries = %d, %v; want 3", recorded, err)
	}
	for _, in := range incidents {
		id := idOf(in)
		gone, err := sealer.Shredded(ctx, id)
		if err != nil || gone != (id != held) {
			t.Errorf("incident %s shredded = %v, %v; want %v", id, gone, err, id != held)
		}
	}
	if _, err := sealer.Open(ctx, idOf(incidents[0]), "x", []byte{1, 2, 3}); !errors.Is(err, sealed.ErrShredded) {
		t.Errorf("opening a shredded incident's value: %v, want ErrShredded", err)
	}
	ledgertest.CheckShredded(t, pool, figures)
	if err := retention.Release(ctx, pool, held, "auditor-1", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if third, err := s.Run(ctx, false, nil); err != nil || third.Shredded != 1 {
		t.Errorf("run after the hold's release = %+v, %v; want the held incident shredded", third, err)
	}
}

func idOf(in *pt.Incident) string {
	return in.Events()[0].Event.Extensions()[events.ExtIncidentID].(string)
}

package retention_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/metrics"
	policy "github.com/lantern-safeguarding/lantern/pkg/retention"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/retention"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/ledgertest"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// replica is one ledger process's scheduler: its own pool, sealer and
// metrics, on the shared database and the shared injected clock.
type replica struct {
	loop *retention.Loop
	reg  *prometheus.Registry
}

func newReplica(t *testing.T, url string, clk clock.Clock) *replica {
	t.Helper()
	pool := pgtest.Open(t, url)
	reg := prometheus.NewRegistry()
	return &replica{reg: reg, loop: &retention.Loop{Log: zaptest.NewLogger(t),
		Metrics:   metrics.NewRetention(reg),
		Scheduler: &retention.Scheduler{Pool: pool, Sealer: sealed.New(pool, nil, clk), Policy: policy.Default(), Clock: clk}}}
}

// counter reads one of the replica's counters, summed over its labels, or
// over those whose label is one of only when given.
func (r *replica) counter(t *testing.T, name string, only ...string) float64 {
	t.Helper()
	families, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				if len(only) == 0 || (len(m.GetLabel()) > 0 && slices.Contains(only, m.GetLabel()[0].GetValue())) {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// loggedIncidents appends n simulated incidents to the ledger at t0.
func loggedIncidents(t *testing.T, pool *pgxpool.Pool, clk clock.Clock, n int) []*pt.Incident {
	t.Helper()
	l := ledgertest.New(t, pool, sealedtest.New(t, pool), clk)
	incidents := pt.Simulate(t, n, t0, 23)
	ledgertest.HandleAll(t, l, pt.All(incidents))
	return incidents
}

// TestTwoReplicasShredEachDueIncidentOnce runs two ledger replicas'
// schedules side by side on an injected clock, ticking both at once. On
// the day nothing is due; 400 days later every incident is, one is on
// legal hold, and across all their runs each of the others is shredded
// exactly once, with one incident.shredded each in a chain that still
// verifies and figures unchanged, while the held one keeps its key.
func TestTwoReplicasShredEachDueIncidentOnce(t *testing.T) {
	url, pool := pt.NewDatabase(t)
	ctx := context.Background()
	clk := clock.NewFake(t0)
	incidents := loggedIncidents(t, pool, clk, 6)
	held := idOf(incidents[2])
	if err := retention.Hold(ctx, pool, held, "manager-1", "mash_manager", "care proceedings", t0); err != nil {
		t.Fatal(err)
	}
	figures := ledgertest.Figures(t, pool)

	replicas := []*replica{newReplica(t, url, clk), newReplica(t, url, clk)}
	// runAll starts both replicas' loops, which run at once, ticks both
	// together n times and closes their ticks: each loop then ends its
	// run in progress and returns, so every run has ended when it does.
	runAll := func(n int) {
		var loops sync.WaitGroup
		for _, r := range replicas {
			ticks := make(chan time.Time)
			loops.Go(func() { r.loop.RunTicks(ctx, ticks) })
			loops.Go(func() {
				defer close(ticks)
				for range n {
					ticks <- clk.Now()
				}
			})
		}
		loops.Wait()
	}
	runAll(0)
	if n := shreddedEntries(t, pool); n != 0 {
		t.Fatalf("on the day of the report: %d incident.shredded entries, want none", n)
	}
	clk.Set(t0.Add(400 * policy.Day))
	runAll(3)

	want := len(incidents) - 1
	if n := shreddedEntries(t, pool); n != want {
		t.Errorf("incident.shredded entries = %d, want %d", n, want)
	}
	var perIncident []int
	rows, err := pool.Query(ctx, `SELECT count(*) FROM ledger.entries WHERE event_type = $1 GROUP BY incident_id`, string(events.IncidentShredded))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int
		_ = rows.Scan(&n)
		perIncident = append(perIncident, n)
	}
	rows.Close()
	if diff := cmp.Diff([]int{1, 1, 1, 1, 1}, perIncident); diff != "" {
		t.Errorf("incident.shredded per incident (-want +got):\n%s", diff)
	}
	shredded := 0.0
	for _, r := range replicas {
		shredded += r.counter(t, "lantern_retention_shredded_total")
	}
	if shredded != float64(want) {
		t.Errorf("the replicas' lantern_retention_shredded_total add up to %v, want %d", shredded, want)
	}
	if runs := replicas[0].counter(t, "lantern_retention_runs_total") + replicas[1].counter(t, "lantern_retention_runs_total"); runs != 10 {
		t.Errorf("runs of both replicas (ran, skipped or failed) = %v, want 10 (5 each: 1+4)", runs)
	}
	for i, r := range replicas {
		if failed := r.counter(t, "lantern_retention_runs_total", metrics.RetentionFailed); failed != 0 {
			t.Errorf("replica %d: %v failed runs", i, failed)
		}
	}
	checker := sealed.New(pool, nil, clk)
	for _, in := range incidents {
		id := idOf(in)
		gone, err := checker.Shredded(ctx, id)
		if err != nil || gone != (id != held) {
			t.Errorf("incident %s shredded = %v, %v; want %v", id, gone, err, id != held)
		}
	}
	ledgertest.CheckShredded(t, pool, figures)
	// Replay, as lantern audit replay does: the whole ledger, the
	// incident.shredded entries included, projected afresh.
	var facts []projection.Fact
	head, err := auditlog.ReadHead(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := auditlog.ScanEntries(ctx, pool, 0, head.Seq, func(e auditlog.Entry) error {
		if f, ok := projection.FactOfEntry(e); ok {
			facts = append(facts, f)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ledgertest.Figures(t, pool), projection.DigestOf(projection.Project(facts))); diff != "" {
		t.Errorf("replay of the ledger after the scheduled shredding differs from live (-live +replayed):\n%s", diff)
	}
}

// TestTickLeavesTheRunToTheLockHolder holds the scheduler's lock as another
// replica would: a tick then shreds nothing and says it did not run; once
// the lock is free the next tick shreds.
func TestTickLeavesTheRunToTheLockHolder(t *testing.T) {
	url, pool := pt.NewDatabase(t)
	ctx := context.Background()
	clk := clock.NewFake(t0)
	incidents := loggedIncidents(t, pool, clk, 2)
	clk.Set(t0.Add(400 * policy.Day))
	other, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock($1)`, retention.LockKey); err != nil {
		t.Fatal(err)
	}
	r := newReplica(t, url, clk)
	res, ran, err := r.loop.Scheduler.Tick(ctx, nil)
	if err != nil || ran || res.Shredded != 0 || shreddedEntries(t, pool) != 0 {
		t.Fatalf("tick while another holds the lock: %+v ran %v, %v; want nothing done", res, ran, err)
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock($1)`, retention.LockKey); err != nil {
		t.Fatal(err)
	}
	other.Release()
	res, ran, err = r.loop.Scheduler.Tick(ctx, nil)
	if err != nil || !ran || res.Shredded != len(incidents) {
		t.Fatalf("tick with the lock free: %+v ran %v, %v; want %d shredded", res, ran, err, len(incidents))
	}
	// The lock went back with the run: a third tick runs (and finds nothing).
	if res, ran, err := r.loop.Scheduler.Tick(ctx, nil); err != nil || !ran || res.Shredded != 0 {
		t.Errorf("tick after a run: %+v ran %v, %v; want a run with nothing to do", res, ran, err)
	}
}

// TestHoldRefusesAShreddedIncident: nothing is left to hold.
func TestHoldRefusesAShreddedIncident(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	ctx := context.Background()
	clk := clock.NewFake(t0)
	incidents := loggedIncidents(t, pool, clk, 1)
	clk.Set(t0.Add(400 * policy.Day))
	s := &retention.Scheduler{Pool: pool, Sealer: sealed.New(pool, nil, clk), Policy: policy.Default(), Clock: clk}
	if res, err := s.Run(ctx, false, nil); err != nil || res.Shredded != 1 {
		t.Fatalf("run = %+v, %v", res, err)
	}
	err := retention.Hold(ctx, pool, idOf(incidents[0]), "auditor-1", "auditor", "too late", clk.Now())
	if !errors.Is(err, retention.ErrShreddedAlready) {
		t.Errorf("hold on a shredded incident: %v, want ErrShreddedAlready", err)
	}
}

func shreddedEntries(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM ledger.entries WHERE event_type = $1`,
		string(events.IncidentShredded)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// probe is a consumer's state in PostgreSQL: the events it applied, in the
// order it applied them, each once (a unique event id, claimed as a real
// consumer's inbox claims it).
type probe struct {
	pool *pgxpool.Pool
	// batched counts the handler calls made inside a shared transaction.
	mu      sync.Mutex
	batched int
}

func newProbe(t *testing.T) *probe {
	t.Helper()
	_, pool := pgtest.NewPool(t, "bus-batch-empty", nil)
	if _, err := pool.Exec(t.Context(), `CREATE TABLE applied (
		n bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, incident text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &probe{pool: pool}
}

func (p *probe) batch(size int) bus.Batch {
	return bus.Batch{Size: size, DB: p.pool, Seen: func(ctx context.Context, q pgdb.Querier, ids []string) (map[string]bool, error) {
		return pgdb.SeenIDs(ctx, q, `SELECT event_id FROM applied WHERE event_id = ANY($1)`, ids)
	}}
}

// behaviour is what the probe's handler does with one event, by the "do"
// member of its data.
type behaviour struct {
	Do string `json:"do"`
}

// handler applies each event in pgdb.InTx, as every Lantern consumer does.
// fail decides, per attempt at an event, whether to fail after writing.
func (p *probe) handler(failAfterWrite func(e cloudevent.Event) error) bus.Handler {
	return func(ctx context.Context, e cloudevent.Event) error {
		if pgdb.SharedOf(ctx) != nil {
			p.mu.Lock()
			p.batched++
			p.mu.Unlock()
		}
		var b behaviour
		_ = json.Unmarshal(e.Data(), &b)
		if b.Do == "refuse" {
			// Refused before anything is written, as bus.On refuses data
			// its schema rejects.
			return bus.Permanent(errors.New("the data fails its schema"))
		}
		return pgdb.InTx(ctx, p.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO applied (event_id, incident) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
				e.ID(), cloudevent.IncidentID(e)); err != nil {
				return err
			}
			if b.Do == "poison" {
				return bus.Permanent(errors.New("the event cannot be applied"))
			}
			if failAfterWrite != nil {
				return failAfterWrite(e)
			}
			return nil
		})
	}
}

// applied returns the ids of the events applied, in the order applied.
func (p *probe) applied(t *testing.T) []string {
	t.Helper()
	return pgtest.Strings(t, p.pool, `SELECT event_id FROM applied ORDER BY n`)
}

func (p *probe) appliedOf(t *testing.T, incident string) []string {
	t.Helper()
	return pgtest.Strings(t, p.pool, `SELECT event_id FROM applied WHERE incident = $1 ORDER BY n`, incident)
}

func probeEvent(t *testing.T, n int, incident, do string) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: cloudevent.DeriveID("bus-batch-test", fmt.Sprint(n)), Type: events.IncidentReported,
		Source: events.SourceIntake, Subject: fmt.Sprint(n), IncidentID: incident, Actor: "service:test",
		Time: time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC), Data: map[string]any{"n": n, "do": do}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// publishAll publishes es before any consumer runs, so that they wait in
// the stream together and are fetched as one batch.
func publishAll(t *testing.T, f fixture, es []cloudevent.Event) {
	t.Helper()
	for _, e := range es {
		if _, err := f.pub.Publish(context.Background(), e, "sg.incident.reported"); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(es []cloudevent.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID()
	}
	return out
}

// deadLetters counts the dead-letter hook's calls by event id.
type deadLetters struct {
	mu   sync.Mutex
	byID map[string]int
}

func (d *deadLetters) hook(_ context.Context, dl bus.DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byID == nil {
		d.byID = map[string]int{}
	}
	if dl.Event != nil {
		d.byID[dl.Event.ID()]++
	}
	return nil
}

func (d *deadLetters) count(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byID[id]
}

func TestBatchAppliesTheOthersAndDeadLettersAPoisonMessageOnce(t *testing.T) {
	for _, do := range []string{"poison", "refuse"} {
		t.Run(do, func(t *testing.T) {
			f, p := setup(t), newProbe(t)
			var es []cloudevent.Event
			for i := range 20 {
				what := ""
				if i == 9 {
					what = do
				}
				es = append(es, probeEvent(t, i, fmt.Sprintf("incident-%d", i%3), what))
			}
			publishAll(t, f, es)
			var dl deadLetters
			spec := bus.ConsumerSpec{Durable: "batch-" + do, Subjects: []string{"sg.>"}, Batch: p.batch(64), OnDeadLetter: dl.hook}
			f.consume(t, spec, p.handler(nil))
			waitAcked(t, f, spec.Durable, uint64(len(es)))

			want := slices.Delete(ids(es), 9, 10)
			if got := p.applied(t); !slices.Equal(got, want) {
				t.Errorf("applied %v\nwant every event but the poison, in stream order, %v", got, want)
			}
			if n := dl.count(es[9].ID()); n != 1 {
				t.Errorf("the poison message was dead-lettered %d times, want once", n)
			}
			assertDeadLetters(t, f, 1)
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.batched == 0 {
				t.Error("no handler ran inside a batch's transaction")
			}
		})
	}
}

func TestADuplicateInsideOneBatchAppliesOnce(t *testing.T) {
	f, p := setup(t), newProbe(t)
	es := []cloudevent.Event{probeEvent(t, 1, "incident-a", ""), probeEvent(t, 2, "incident-a", "")}
	publishAll(t, f, es)
	// The same event again, under a message id the stream's deduplication
	// does not know: a re-publish from an outbox after the window, say.
	msg, err := cloudevent.ToMsg(es[0], "sg.incident.reported")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.js.PublishMsg(context.Background(), msg, jetstream.WithMsgID("republished-"+es[0].ID())); err != nil {
		t.Fatal(err)
	}
	var calls sync.Map
	counting := p.handler(nil)
	h := func(ctx context.Context, e cloudevent.Event) error {
		n, _ := calls.LoadOrStore(e.ID(), new(int))
		*n.(*int)++
		return counting(ctx, e)
	}
	spec := bus.ConsumerSpec{Durable: "duplicates", Subjects: []string{"sg.>"}, Batch: p.batch(64)}
	f.consume(t, spec, h)
	waitAcked(t, f, spec.Durable, 3)
	if got := p.applied(t); !slices.Equal(got, ids(es)) {
		t.Errorf("applied %v, want %v", got, ids(es))
	}
	if n, _ := calls.Load(es[0].ID()); *n.(*int) != 1 {
		t.Errorf("the handler ran %d times for the event delivered twice in one batch, want once", *n.(*int))
	}
	assertDeadLetters(t, f, 0)
}

func TestAppliedEventsRedeliveredAreAcknowledgedWithoutRunningTheirHandlers(t *testing.T) {
	f, p := setup(t), newProbe(t)
	es := []cloudevent.Event{probeEvent(t, 1, "incident-a", ""), probeEvent(t, 2, "incident-b", ""), probeEvent(t, 3, "incident-a", "")}
	// The first two were applied before a crash stopped their acks.
	for _, e := range es[:2] {
		if _, err := p.pool.Exec(t.Context(), `INSERT INTO applied (event_id, incident) VALUES ($1, $2)`, e.ID(), cloudevent.IncidentID(e)); err != nil {
			t.Fatal(err)
		}
	}
	publishAll(t, f, es)
	var mu sync.Mutex
	var ran []string
	applying := p.handler(nil)
	spec := bus.ConsumerSpec{Durable: "redelivered", Subjects: []string{"sg.>"}, Batch: p.batch(64)}
	f.consume(t, spec, func(ctx context.Context, e cloudevent.Event) error {
		mu.Lock()
		ran = append(ran, e.ID())
		mu.Unlock()
		return applying(ctx, e)
	})
	waitAcked(t, f, spec.Durable, 3)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(ran, ids(es[2:])) {
		t.Errorf("handlers ran for %v, want only the event not applied before, %v", ran, ids(es[2:]))
	}
}

func TestBatchKeepsEachIncidentsEventsInStreamOrder(t *testing.T) {
	f, p := setup(t), newProbe(t)
	var es []cloudevent.Event
	for i := range 30 {
		es = append(es, probeEvent(t, i, fmt.Sprintf("incident-%d", i%3), ""))
	}
	publishAll(t, f, es)
	// The fifth event (incident-1's second) fails after writing on its
	// first two attempts, as when its transaction hits a deadlock: the
	// batch is redone around it, and incident-1's later events must not
	// overtake it.
	var mu sync.Mutex
	attempts := map[string]int{}
	flaky := es[4].ID()
	spec := bus.ConsumerSpec{Durable: "ordered", Subjects: []string{"sg.>"}, Batch: p.batch(64),
		Backoff: []time.Duration{20 * time.Millisecond}}
	f.consume(t, spec, p.handler(func(e cloudevent.Event) error {
		if e.ID() != flaky {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		attempts[e.ID()]++
		if attempts[e.ID()] <= 2 {
			return errors.New("deadlock detected")
		}
		return nil
	}))
	waitAcked(t, f, spec.Durable, uint64(len(es)))
	for k := range 3 {
		incident := fmt.Sprintf("incident-%d", k)
		var want []string
		for i, e := range es {
			if i%3 == k {
				want = append(want, e.ID())
			}
		}
		if got := p.appliedOf(t, incident); !slices.Equal(got, want) {
			t.Errorf("%s applied in the order %v, want stream order %v", incident, got, want)
		}
	}
	if got := len(p.applied(t)); got != len(es) {
		t.Errorf("%d events applied, want %d", got, len(es))
	}
	assertDeadLetters(t, f, 0)
}

// TestBatchSizeBoundsATransaction checks that no more than Size messages
// share one transaction.
func TestBatchSizeBoundsATransaction(t *testing.T) {
	f, p := setup(t), newProbe(t)
	var es []cloudevent.Event
	for i := range 25 {
		es = append(es, probeEvent(t, i, "incident-a", ""))
	}
	publishAll(t, f, es)
	var mu sync.Mutex
	perTx := map[*pgdb.Shared]int{}
	applying := p.handler(nil)
	spec := bus.ConsumerSpec{Durable: "bounded", Subjects: []string{"sg.>"}, Batch: p.batch(10)}
	f.consume(t, spec, func(ctx context.Context, e cloudevent.Event) error {
		mu.Lock()
		perTx[pgdb.SharedOf(ctx)]++
		mu.Unlock()
		return applying(ctx, e)
	})
	waitAcked(t, f, spec.Durable, uint64(len(es)))
	mu.Lock()
	defer mu.Unlock()
	largest := 0
	for _, n := range perTx {
		largest = max(largest, n)
	}
	if largest > 10 || largest < 2 {
		t.Errorf("the largest batch held %d messages, want between 2 and the size, 10", largest)
	}
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if n := len(p.applied(t)); n != len(es) {
			return fmt.Errorf("%d of %d applied", n, len(es))
		}
		return nil
	})
}

// TestABatchLongerThanTheAckWaitIsNotRedelivered: the messages waiting
// their turn in a batch that takes longer than the ack wait (a slow
// database) must not be redelivered meanwhile to another replica, which
// would apply them at the same time and count a delivery against
// MaxDeliver (here 1), dead-lettering them without their ever failing.
func TestABatchLongerThanTheAckWaitIsNotRedelivered(t *testing.T) {
	f, p := setup(t), newProbe(t)
	var es []cloudevent.Event
	for i := range 6 {
		es = append(es, probeEvent(t, i, fmt.Sprintf("incident-%d", i), ""))
	}
	publishAll(t, f, es)
	var dl deadLetters
	applying := p.handler(nil)
	spec := bus.ConsumerSpec{Durable: "slow-batch", Subjects: []string{"sg.>"}, AckWait: time.Second, MaxDeliver: 1,
		Batch: p.batch(64), OnDeadLetter: dl.hook}
	var handled atomic.Uint64
	slow := func(ctx context.Context, e cloudevent.Event) error {
		<-time.After(400 * time.Millisecond) // the slow database, not a wait for a condition
		handled.Add(1)
		return applying(ctx, e)
	}
	// Two replicas: a message redelivered while its batch runs goes to
	// the idle one.
	f.consume(t, spec, slow)
	f.consume(t, spec, slow)
	delivered := waitAllDeliveriesSettled(t, f, spec.Durable, handled.Load, uint64(len(es)))
	if delivered != uint64(len(es)) {
		t.Errorf("%d deliveries for %d messages: messages were redelivered while their batch ran", delivered, len(es))
	}
	// Each message is its own incident and two replicas share the work,
	// so the order across them is not defined: each must be applied once.
	got, want := p.applied(t), ids(es)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("applied %v, want each of %v once", got, want)
	}
	assertDeadLetters(t, f, 0)
}

package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

type fixture struct {
	js  jetstream.JetStream
	pub *bus.Publisher
}

func setup(t *testing.T) fixture {
	t.Helper()
	js := natstest.RunServer(t).Streams(t)
	return fixture{js: js, pub: bus.NewPublisher(js)}
}

func event(t *testing.T, n int) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: cloudevent.DeriveID("bus-test", fmt.Sprint(n)), Type: events.IncidentReported,
		Source: events.SourceIntake, Subject: fmt.Sprint(n), IncidentID: fmt.Sprintf("incident-%d", n), Actor: "service:test",
		Time: time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC), Data: map[string]int{"n": n}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// consume runs a consumer until the test ends.
func (f fixture) consume(t *testing.T, spec bus.ConsumerSpec, h bus.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Consume(ctx, f.js, spec, h, zaptest.NewLogger(t)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consume returned %v", err)
		}
	})
}

// recorder counts handled event ids.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

func (r *recorder) handle(fail func(attempt int) error) bus.Handler {
	r.seen = map[string]int{}
	return func(_ context.Context, e cloudevent.Event) error {
		r.mu.Lock()
		r.seen[e.ID()]++
		attempt := r.seen[e.ID()]
		r.mu.Unlock()
		return fail(attempt)
	}
}

func TestPublishTwiceStoresOnce(t *testing.T) {
	f := setup(t)
	e := event(t, 1)
	first, err := f.pub.Publish(context.Background(), e, "sg.incident.reported")
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.pub.Publish(context.Background(), e, "sg.incident.reported")
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !second.Duplicate || first.Sequence != second.Sequence {
		t.Errorf("acks = %+v then %+v; want the second flagged duplicate of the first", first, second)
	}
}

func TestAckedOnceAfterSuccess(t *testing.T) {
	f := setup(t)
	var r recorder
	f.consume(t, bus.ConsumerSpec{Durable: "ok", Subjects: []string{"sg.>"}}, r.handle(func(int) error { return nil }))
	e := event(t, 2)
	if _, err := f.pub.Publish(context.Background(), e, "sg.incident.reported"); err != nil {
		t.Fatal(err)
	}
	waitAcked(t, f, "ok", 1)
	if n := r.count(e.ID()); n != 1 {
		t.Errorf("handled %d times, want 1", n)
	}
}

func TestTransientFailureIsRedelivered(t *testing.T) {
	f := setup(t)
	var r recorder
	spec := bus.ConsumerSpec{Durable: "retry", Subjects: []string{"sg.>"}, Backoff: []time.Duration{10 * time.Millisecond}}
	f.consume(t, spec, r.handle(func(attempt int) error {
		if attempt < 3 {
			return errors.New("database briefly unavailable")
		}
		return nil
	}))
	e := event(t, 3)
	if _, err := f.pub.Publish(context.Background(), e, "sg.incident.reported"); err != nil {
		t.Fatal(err)
	}
	waitAcked(t, f, "retry", 1)
	if n := r.count(e.ID()); n != 3 {
		t.Errorf("handled %d times, want 3 (two failures, then success)", n)
	}
	assertDeadLetters(t, f, 0)
}

func TestPermanentFailureIsDeadLettered(t *testing.T) {
	f := setup(t)
	var r recorder
	var mu sync.Mutex
	var hooked []bus.DeadLetter
	spec := bus.ConsumerSpec{Durable: "poison", Subjects: []string{"sg.>"}, OnDeadLetter: func(_ context.Context, dl bus.DeadLetter) error {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, dl)
		return nil
	}}
	f.consume(t, spec, r.handle(func(int) error { return bus.Permanent(errors.New("fails validation")) }))
	e := event(t, 4)
	if _, err := f.pub.Publish(context.Background(), e, "sg.incident.reported"); err != nil {
		t.Fatal(err)
	}
	msg := assertDeadLetters(t, f, 1)
	if got := msg.Header.Get(bus.HeaderDLQReason); got != "fails validation" {
		t.Errorf("dead-letter reason = %q", got)
	}
	if got := msg.Header.Get("ce-id"); got != e.ID() {
		t.Errorf("dead letter lost the event id: %q", got)
	}
	waitAcked(t, f, "poison", 1)
	mu.Lock()
	defer mu.Unlock()
	if len(hooked) != 1 || hooked[0].Event == nil || hooked[0].Event.ID() != e.ID() {
		t.Errorf("dead-letter hook saw %+v", hooked)
	}
	if n := r.count(e.ID()); n != 1 {
		t.Errorf("a permanent failure was retried: handled %d times", n)
	}
}

func TestRepeatedFailureIsDeadLetteredAfterMaxDeliver(t *testing.T) {
	f := setup(t)
	var r recorder
	spec := bus.ConsumerSpec{Durable: "exhaust", Subjects: []string{"sg.>"}, MaxDeliver: 3, Backoff: []time.Duration{5 * time.Millisecond}}
	f.consume(t, spec, r.handle(func(int) error { return errors.New("always fails") }))
	e := event(t, 5)
	if _, err := f.pub.Publish(context.Background(), e, "sg.incident.reported"); err != nil {
		t.Fatal(err)
	}
	assertDeadLetters(t, f, 1)
	if n := r.count(e.ID()); n != 3 {
		t.Errorf("handled %d times, want MaxDeliver = 3", n)
	}
}

func TestUnreadableMessageIsDeadLetteredWithoutBlockingOthers(t *testing.T) {
	f := setup(t)
	var r recorder
	f.consume(t, bus.ConsumerSpec{Durable: "mixed", Subjects: []string{"sg.>"}}, r.handle(func(int) error { return nil }))
	if _, err := f.js.PublishMsg(context.Background(), &nats.Msg{Subject: "sg.incident.reported", Data: []byte("not an event")}); err != nil {
		t.Fatal(err)
	}
	e := event(t, 6)
	if _, err := f.pub.Publish(context.Background(), e, "sg.incident.reported"); err != nil {
		t.Fatal(err)
	}
	assertDeadLetters(t, f, 1)
	waitAcked(t, f, "mixed", 2)
	if n := r.count(e.ID()); n != 1 {
		t.Errorf("the good event behind the poison was handled %d times", n)
	}
}

func waitAcked(t *testing.T, f fixture, durable string, n uint64) {
	t.Helper()
	natstest.WaitAcked(t, f.js, durable, n)
}

// assertDeadLetters waits for want messages in the dead-letter stream and
// returns the last one.
func assertDeadLetters(t *testing.T, f fixture, want uint64) *jetstream.RawStreamMsg {
	t.Helper()
	var last *jetstream.RawStreamMsg
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		s, err := f.js.Stream(context.Background(), bus.DeadLetterStream)
		if err != nil {
			return err
		}
		info, err := s.Info(context.Background())
		if err != nil {
			return err
		}
		if info.State.Msgs != want {
			return fmt.Errorf("%d dead letters, want %d", info.State.Msgs, want)
		}
		if want > 0 {
			m, err := s.GetMsg(context.Background(), info.State.LastSeq)
			if err != nil {
				return err
			}
			last = m
		}
		return nil
	})
	return last
}

// TestWaitCaughtUpWaitsForTheBacklog: a consumer that exists but has not
// consumed what is in the stream has not caught up; once it has applied
// and acknowledged everything, it has.
func TestWaitCaughtUpWaitsForTheBacklog(t *testing.T) {
	js := natstest.RunServer(t).Streams(t)
	spec := bus.ConsumerSpec{Durable: "catchup", Subjects: []string{"sg.triage.decided"}, AckWait: 5 * time.Second}
	// The durable exists but nothing consumes it, as when a service has
	// only just started.
	if _, err := js.CreateOrUpdateConsumer(t.Context(), bus.EventsStream, jetstream.ConsumerConfig{
		Durable: spec.Durable, FilterSubjects: spec.Subjects, AckPolicy: jetstream.AckExplicitPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	wait := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(t.Context(), d)
		defer cancel()
		return bus.WaitCaughtUp(ctx, js, spec, 10*time.Millisecond)
	}
	if err := wait(300 * time.Millisecond); err != nil {
		t.Errorf("WaitCaughtUp with nothing to consume = %v, want nil", err)
	}
	if _, err := js.Publish(t.Context(), "sg.triage.decided", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := wait(300 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitCaughtUp with an unconsumed message = %v, want context.DeadlineExceeded", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		_ = bus.Consume(ctx, js, spec, func(context.Context, cloudevent.Event) error { return nil }, zaptest.NewLogger(t))
	})
	if err := wait(30 * time.Second); err != nil {
		t.Errorf("WaitCaughtUp once the message is handled = %v, want nil", err)
	}
}

// TestServiceStartLeavesProvisionedStreamsAlone declares the streams as
// the provisioning step would, with settings of its own, then as a service
// starting without the provisioner's credentials does: the settings stay.
// Replicas are kept the same way (a three-server cluster is in the fault
// suite); here the duplicate window stands for them.
func TestServiceStartLeavesProvisionedStreamsAlone(t *testing.T) {
	js := natstest.RunServer(t).Streams(t)
	ctx := context.Background()
	provisioned := 3 * time.Minute
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{DuplicateWindow: provisioned}); err != nil {
		t.Fatal(err)
	}
	window := func() time.Duration {
		s, err := js.Stream(ctx, bus.EventsStream)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().Config.Duplicates
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{CreateOnly: true}); err != nil {
		t.Fatal(err)
	}
	if got := window(); got != provisioned {
		t.Errorf("a service start changed the duplicate window to %s; provisioning set %s", got, provisioned)
	}
	// Without CreateOnly the same call does update: the check above can fail.
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := window(); got == provisioned {
		t.Errorf("an update left the duplicate window at %s", got)
	}
}

package bus_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/natstest"
)

// TestWaitCaughtUpWaitsForTheBacklog: a consumer that exists but has not
// consumed what is in the stream has not caught up; once it has applied
// and acknowledged everything, it has.
func TestWaitCaughtUpWaitsForTheBacklog(t *testing.T) {
	srv := natstest.RunServer(t)
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureStreams(t.Context(), js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
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

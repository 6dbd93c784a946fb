package bus_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// TestMessagesBehindASlowHandlerAreNotRedelivered covers a backlog behind a
// handler that takes a third of the ack wait, as when the database is slow:
// a message waiting its turn must not be redelivered, which would count
// against MaxDeliver (here 1) and dead-letter it without its ever having
// failed.
func TestMessagesBehindASlowHandlerAreNotRedelivered(t *testing.T) {
	f := setup(t)
	var r recorder
	var deadLettered atomic.Uint64
	spec := bus.ConsumerSpec{Durable: "slow", Subjects: []string{"sg.>"}, AckWait: 1500 * time.Millisecond, MaxDeliver: 1,
		OnDeadLetter: func(context.Context, bus.DeadLetter) error { deadLettered.Add(1); return nil }}
	f.consume(t, spec, r.handle(func(int) error {
		<-time.After(500 * time.Millisecond) // the slow database, not a wait for a condition
		return nil
	}))
	const backlog = 6
	var ids []string
	for i := range backlog {
		e := event(t, 100+i)
		ids = append(ids, e.ID())
		if _, err := f.pub.Publish(context.Background(), e, "sg.incident.reported"); err != nil {
			t.Fatal(err)
		}
	}
	delivered := waitAllDeliveriesSettled(t, f, "slow", func() uint64 { return r.total() + deadLettered.Load() }, backlog)
	if n := deadLettered.Load(); n != 0 {
		t.Errorf("%d deliveries were dead-lettered", n)
	}
	if delivered != backlog {
		t.Errorf("%d deliveries for %d messages: messages were redelivered while waiting", delivered, backlog)
	}
	for _, id := range ids {
		if n := r.count(id); n != 1 {
			t.Errorf("event %s was handled %d times, want 1", id, n)
		}
	}
}

// waitAllDeliveriesSettled waits until n messages are acknowledged and
// every delivery the consumer made has been dealt with, handled or
// dead-lettered, as counted by dealt; it returns the number of deliveries.
func waitAllDeliveriesSettled(t *testing.T, f fixture, durable string, dealt func() uint64, n uint64) uint64 {
	t.Helper()
	var delivered uint64
	natstest.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		c, err := f.js.Consumer(context.Background(), bus.EventsStream, durable)
		if err != nil {
			return err
		}
		info, err := c.Info(context.Background())
		if err != nil {
			return err
		}
		delivered = info.Delivered.Consumer
		if done := dealt(); info.AckFloor.Stream < n || info.NumAckPending != 0 || done != delivered {
			return fmt.Errorf("ack floor %d, pending %d, %d of %d deliveries handled or dead-lettered",
				info.AckFloor.Stream, info.NumAckPending, done, delivered)
		}
		return nil
	})
	return delivered
}

func (r *recorder) total() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n uint64
	for _, c := range r.seen {
		n += uint64(c)
	}
	return n
}

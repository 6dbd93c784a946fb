package bus_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
)

func TestRedriveAfterAFixIsHandledOnceAndMarked(t *testing.T) {
	f := setup(t)
	var fixed atomic.Bool
	var r recorder
	spec := bus.ConsumerSpec{Durable: "fixable", Subjects: []string{"sg.>"}, MaxDeliver: 2, Backoff: []time.Duration{5 * time.Millisecond}}
	f.consume(t, spec, r.handle(func(int) error {
		if !fixed.Load() {
			return errors.New("recipient unreachable")
		}
		return nil
	}))
	e := event(t, 10)
	if _, err := f.pub.Publish(context.Background(), e, "sg.incident.reported"); err != nil {
		t.Fatal(err)
	}
	assertDeadLetters(t, f, 1)

	letters, err := bus.DeadLetters(context.Background(), f.js)
	if err != nil {
		t.Fatal(err)
	}
	want := []bus.StoredDeadLetter{{Seq: 1, Consumer: "fixable", Subject: "sg.incident.reported", OriginalSeq: 1,
		EventID: e.ID(), EventType: e.Type(), Reason: "recipient unreachable", Deliveries: 2}}
	if diff := cmp.Diff(want, letters, cmpopts.IgnoreFields(bus.StoredDeadLetter{}, "DeadLetteredAt")); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}

	fixed.Store(true)
	ack, err := bus.Redrive(context.Background(), f.js, letters[0].Seq)
	if err != nil {
		t.Fatal(err)
	}
	waitAcked(t, f, "fixable", ack.Sequence)
	if n := r.count(e.ID()); n != 3 {
		t.Errorf("handled %d times, want two failures and one success", n)
	}
	after, err := bus.DeadLetters(context.Background(), f.js)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 1 || !after[0].Redriven() {
		t.Errorf("after the redrive the dead letters are %+v, want the one marked redriven", after)
	}
	if _, err := bus.Redrive(context.Background(), f.js, letters[0].Seq); !errors.Is(err, bus.ErrAlreadyRedriven) {
		t.Errorf("second redrive = %v, want ErrAlreadyRedriven", err)
	}
}

func TestRedriveRefusesWhatIsNotAnOpenDeadLetter(t *testing.T) {
	f := setup(t)
	var r recorder
	f.consume(t, bus.ConsumerSpec{Durable: "poison", Subjects: []string{"sg.>"}}, r.handle(func(attempt int) error {
		if attempt == 1 {
			return bus.Permanent(errors.New("unreadable"))
		}
		return nil
	}))
	if _, err := f.pub.Publish(context.Background(), event(t, 11), "sg.incident.reported"); err != nil {
		t.Fatal(err)
	}
	assertDeadLetters(t, f, 1)
	ack, err := bus.Redrive(context.Background(), f.js, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The redriven copy is handled, so the stream's second message is the
	// redrive marker.
	waitAcked(t, f, "poison", ack.Sequence)
	cases := []struct {
		name string
		seq  uint64
		want error
	}{
		{"no such message", 99, bus.ErrNoDeadLetter},
		{"a redrive marker", 2, bus.ErrNoDeadLetter},
		{"already redriven", 1, bus.ErrAlreadyRedriven},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := bus.Redrive(context.Background(), f.js, tc.seq); !errors.Is(err, tc.want) {
				t.Errorf("Redrive(%d) = %v, want %v", tc.seq, err, tc.want)
			}
		})
	}
}

func TestDeadLetterHookCountsAttempts(t *testing.T) {
	cases := []struct {
		name       string
		maxDeliver int
		fail       error
		want       uint64
	}{
		{"permanent failure", 5, bus.Permanent(errors.New("invalid")), 1},
		{"deliveries run out", 3, errors.New("down"), 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			var mu sync.Mutex
			var attempts []uint64
			spec := bus.ConsumerSpec{Durable: "count", Subjects: []string{"sg.>"}, MaxDeliver: tc.maxDeliver,
				Backoff: []time.Duration{5 * time.Millisecond}, OnDeadLetter: func(_ context.Context, dl bus.DeadLetter) error {
					mu.Lock()
					defer mu.Unlock()
					attempts = append(attempts, dl.Attempts)
					return nil
				}}
			var r recorder
			f.consume(t, spec, r.handle(func(int) error { return tc.fail }))
			if _, err := f.pub.Publish(context.Background(), event(t, 12), "sg.incident.reported"); err != nil {
				t.Fatal(err)
			}
			waitAcked(t, f, "count", 1)
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]uint64{tc.want}, attempts); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
		})
	}
}

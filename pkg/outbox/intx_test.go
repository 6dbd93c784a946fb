package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestInTxWakesTheRelayAtCommit(t *testing.T) {
	f := setup(t)
	f.relay.Poll = time.Hour // only a wake-up can bring it back in time
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.relay.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := range 3 {
		err := f.store.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
			return f.store.Enqueue(context.Background(), tx, "sg.incident.reported", event(t, 20+i))
		})
		if err != nil {
			t.Fatal(err)
		}
		natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			if got := f.streamMsgs(t); got != uint64(i+1) {
				return fmt.Errorf("stream holds %d, want %d", got, i+1)
			}
			return nil
		})
	}
}

func TestInTxSendsNoNotify(t *testing.T) {
	f := setup(t)
	listener, err := f.pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Release()
	if _, err := listener.Exec(context.Background(), `LISTEN svc_outbox`); err != nil {
		t.Fatal(err)
	}
	err = f.store.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
		return f.store.Enqueue(context.Background(), tx, "sg.incident.reported", event(t, 30))
	})
	if err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in commit order: if the transaction had sent
	// one, it would come before this marker.
	if _, err := f.pool.Exec(context.Background(), `SELECT pg_notify('svc_outbox', 'marker')`); err != nil {
		t.Fatal(err)
	}
	n, err := listener.Conn().WaitForNotification(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n.Payload != "marker" {
		t.Errorf("first notification has payload %q: the transaction notified", n.Payload)
	}
}

func TestInTxRollbackWakesNothingAndPublishesNothing(t *testing.T) {
	f := setup(t)
	failure := errors.New("the state change failed")
	err := f.store.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
		if err := f.store.Enqueue(context.Background(), tx, "sg.incident.reported", event(t, 40)); err != nil {
			return err
		}
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if n, _ := f.relay.RelayOnce(context.Background()); n != 0 {
		t.Errorf("published %d events from a rolled-back transaction", n)
	}
}

func TestEnqueueAllKeepsOrderAndSkipsRepeats(t *testing.T) {
	f := setup(t)
	f.enqueue(t, event(t, 52)) // already enqueued before the batch
	var out []outbox.Outgoing
	for _, n := range []int{51, 50, 52, 53} {
		out = append(out, outbox.Outgoing{Subject: "sg.incident.reported", Event: event(t, n)})
	}
	err := f.store.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
		return f.store.EnqueueAll(context.Background(), tx, out)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := pgtest.Strings(t, f.pool, `SELECT event_id FROM svc.outbox ORDER BY seq`)
	want := []string{event(t, 52).ID(), event(t, 51).ID(), event(t, 50).ID(), event(t, 53).ID()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outbox order (-want +got):\n%s", diff)
	}
}

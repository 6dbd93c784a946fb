package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// enqueueMany adds n events numbered from first in one transaction.
func (f fixture) enqueueMany(t *testing.T, first, n int) {
	t.Helper()
	out := make([]outbox.Outgoing, n)
	for i := range out {
		out[i] = outbox.Outgoing{Subject: "sg.incident.reported", Event: event(t, first+i)}
	}
	err := pgdb.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
		return f.store.EnqueueAll(context.Background(), tx, out)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f fixture) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReplicasClaimDisjointBatches(t *testing.T) {
	f := setup(t)
	f.enqueueMany(t, 0, 600)
	relays := []*outbox.Relay{f.relay, f.store.NewRelay(f.pool, bus.NewPublisher(f.js), zaptest.NewLogger(t))}
	dups := make([]int, len(relays))
	for i, r := range relays {
		r.Batch = 50
		r.OnPublished = func(_ string, _ cloudevent.Event, duplicate bool) {
			if duplicate {
				dups[i]++
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(relays))
	for _, r := range relays {
		wg.Go(func() {
			for {
				n, err := r.RelayOnce(context.Background())
				if err != nil || n == 0 {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.streamMsgs(t); got != 600 {
		t.Errorf("stream holds %d messages, want 600", got)
	}
	// Each row was claimed by one relay only: none was sent twice.
	if dups[0]+dups[1] != 0 {
		t.Errorf("the stream recognised %v events as sent already: two relays claimed the same rows", dups)
	}
	if n := f.count(t, `SELECT count(*) FROM svc.outbox WHERE published_at IS NULL OR claimed_until IS NOT NULL`); n != 0 {
		t.Errorf("%d rows unpublished or still leased", n)
	}
}

func TestLeasedRowsWaitForTheLease(t *testing.T) {
	f := setup(t)
	f.enqueueMany(t, 0, 3)
	// Another relay claimed the first row and died: its lease holds.
	if _, err := f.pool.Exec(context.Background(), `UPDATE svc.outbox SET claimed_until = now() + interval '1 hour'
		WHERE seq = (SELECT min(seq) FROM svc.outbox)`); err != nil {
		t.Fatal(err)
	}
	if n, err := f.relay.RelayOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("RelayOnce = %d, %v; want the 2 rows not leased", n, err)
	}
	// The lease runs out: the row is claimed and published.
	if _, err := f.pool.Exec(context.Background(), `UPDATE svc.outbox SET claimed_until = now() - interval '1 second'
		WHERE published_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	if n, err := f.relay.RelayOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("RelayOnce after the lease = %d, %v; want 1", n, err)
	}
	if got := f.streamMsgs(t); got != 3 {
		t.Errorf("stream holds %d messages, want 3", got)
	}
}

// TestPublishWaitHoldsNoTransaction stops the broker, so that the relay
// waits for acknowledgements that never come: meanwhile no session of its
// is inside a transaction, and afterwards the batch is unpublished, free
// for the next round, which publishes it once the broker is back.
func TestPublishWaitHoldsNoTransaction(t *testing.T) {
	ctx := context.Background()
	f, srv := setupServer(t)
	f.enqueueMany(t, 0, 20)
	f.relay.AckTimeout = 3 * time.Second
	srv.Shutdown()
	type round struct {
		n   int
		err error
	}
	done := make(chan round, 1)
	go func() {
		n, err := f.relay.RelayOnce(ctx)
		done <- round{n, err}
	}()
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := f.count(t, `SELECT count(*) FROM svc.outbox WHERE claimed_until > now()`); n != 20 {
			return fmt.Errorf("%d rows claimed", n)
		}
		return nil
	})
	inTx := f.count(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()`)
	if inTx != 0 {
		t.Errorf("%d sessions idle in a transaction while the relay waits for the broker", inTx)
	}
	got := <-done
	if got.n != 0 || got.err == nil {
		t.Fatalf("RelayOnce with the broker down = %d, %v; want 0 and an error", got.n, got.err)
	}
	if n := f.count(t, `SELECT count(*) FROM svc.outbox WHERE published_at IS NULL AND claimed_until IS NULL`); n != 20 {
		t.Errorf("%d of 20 rows unpublished and free after the failed round", n)
	}
	srv.RestartAfter(t, func(string) {})
	natstest.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		n, err := f.relay.RelayOnce(ctx)
		if err == nil && n == 0 && f.count(t, `SELECT count(*) FROM svc.outbox WHERE published_at IS NULL`) > 0 {
			err = errors.New("rows left unpublished")
		}
		return err
	})
	if got := f.streamMsgs(t); got != 20 {
		t.Errorf("stream holds %d messages after the broker came back, want 20", got)
	}
}

// TestBrokerLosingItsTailIsRepublished cuts the newest message block of the
// events stream short while the broker is down, as a power cut can with a
// broker that syncs on a timer: the relay, seeing the broker come back,
// publishes the horizon again and the stream holds every event once.
func TestBrokerLosingItsTailIsRepublished(t *testing.T) {
	ctx := context.Background()
	f, srv := setupServer(t)
	js := f.js
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.relay.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	f.enqueueMany(t, 0, 200)
	waitStream := func(want uint64) {
		natstest.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
			s, err := js.Stream(ctx, bus.EventsStream)
			if err != nil {
				return err
			}
			if got := s.CachedInfo().State.Msgs; got != want {
				return fmt.Errorf("stream holds %d messages, want %d", got, want)
			}
			return nil
		})
	}
	waitStream(200)
	srv.RestartAfter(t, func(dir string) {
		blocks, err := filepath.Glob(filepath.Join(dir, "jetstream", "*", "streams", bus.EventsStream, "msgs", "*.blk"))
		if err != nil || len(blocks) == 0 {
			t.Fatalf("no message blocks in %s: %v", dir, err)
		}
		slices.Sort(blocks)
		last := blocks[len(blocks)-1]
		info, err := os.Stat(last)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(last, info.Size()/2); err != nil {
			t.Fatal(err)
		}
		// The stream's index would otherwise tell the server what the
		// block held.
		for _, idx := range []string{"index.db"} {
			_ = os.Remove(filepath.Join(filepath.Dir(last), idx))
		}
	})
	s, err := js.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	after := s.CachedInfo().State.Msgs
	t.Logf("the stream held %d of 200 messages after the restart", after)
	if after >= 200 {
		t.Fatalf("cutting the block lost nothing (%d messages): the test did not damage the stream", after)
	}
	waitStream(200)
	if n := f.count(t, `SELECT count(*) FROM svc.outbox WHERE published_at IS NULL`); n != 0 {
		t.Errorf("%d rows unpublished", n)
	}
}

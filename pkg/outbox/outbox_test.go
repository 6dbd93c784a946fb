package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type fixture struct {
	pool  *pgxpool.Pool
	store *outbox.Store
	js    jetstream.JetStream
	relay *outbox.Relay
}

func setup(t *testing.T) fixture {
	t.Helper()
	f, _ := setupServer(t)
	return f
}

// setupServer is setup that also returns the broker, for tests that stop
// or damage it.
func setupServer(t *testing.T) (fixture, *natstest.Server) {
	t.Helper()
	ctx := context.Background()
	_, pool := pgtest.NewPool(t, "outbox-empty", nil)
	store := outbox.New("svc")
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	srv := natstest.RunServer(t)
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return fixture{pool: pool, store: store, js: js, relay: store.NewRelay(pool, bus.NewPublisher(js), zaptest.NewLogger(t))}, srv
}

func event(t *testing.T, n int) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: cloudevent.DeriveID("outbox-test", fmt.Sprint(n)), Type: events.IncidentReported,
		Source: events.SourceIntake, Subject: fmt.Sprint(n), IncidentID: fmt.Sprint(n), Actor: "service:test",
		Time: time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC), Data: map[string]int{"n": n}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f fixture) enqueue(t *testing.T, e cloudevent.Event) {
	t.Helper()
	err := pgdb.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
		return f.store.Enqueue(context.Background(), tx, "sg.incident.reported", e)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f fixture) streamMsgs(t *testing.T) uint64 {
	t.Helper()
	s, err := f.js.Stream(context.Background(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestRelayPublishesCommittedEventsOnce(t *testing.T) {
	f := setup(t)
	for i := range 3 {
		f.enqueue(t, event(t, i))
	}
	f.enqueue(t, event(t, 0)) // the same event again: no second row
	n, err := f.relay.RelayOnce(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("RelayOnce = %d, %v; want 3 published", n, err)
	}
	if n, _ := f.relay.RelayOnce(context.Background()); n != 0 {
		t.Errorf("second RelayOnce published %d again", n)
	}
	if got := f.streamMsgs(t); got != 3 {
		t.Errorf("stream holds %d messages, want 3", got)
	}
	if pending, _ := f.store.Pending(context.Background(), f.pool); pending != 0 {
		t.Errorf("%d events left pending", pending)
	}
	kept := func() int {
		var n int
		if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM svc.outbox WHERE length(event) > 0`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Bodies stay for the re-publish horizon, then only the rows remain.
	if n := kept(); n != 3 {
		t.Errorf("%d published events hold their body, want 3 within the store's Keep", n)
	}
	if n, err := f.relay.Prune(context.Background()); err != nil || n != 0 {
		t.Errorf("Prune within Keep dropped %d (%v), want 0", n, err)
	}
	f.store.Keep = 0
	if n, err := f.relay.Prune(context.Background()); err != nil || n != 3 {
		t.Errorf("Prune past Keep dropped %d (%v), want 3", n, err)
	}
	if n := kept(); n != 0 {
		t.Errorf("%d published events still hold their body past Keep; want every body pruned", n)
	}
}

func TestRolledBackEventIsNeverPublished(t *testing.T) {
	f := setup(t)
	err := pgdb.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
		if err := f.store.Enqueue(context.Background(), tx, "sg.incident.reported", event(t, 9)); err != nil {
			return err
		}
		return fmt.Errorf("the state change failed")
	})
	if err == nil {
		t.Fatal("transaction should have failed")
	}
	if n, _ := f.relay.RelayOnce(context.Background()); n != 0 {
		t.Errorf("published %d events from a rolled-back transaction", n)
	}
}

func TestRepublishAfterCrashBeforeMarkIsDeduplicated(t *testing.T) {
	f := setup(t)
	core, logs := observer.New(zap.InfoLevel)
	relay := f.store.NewRelay(f.pool, bus.NewPublisher(f.js), zap.New(core))
	f.enqueue(t, event(t, 1))
	f.enqueue(t, event(t, 2))
	if _, err := f.pool.Exec(context.Background(), `CREATE TABLE svc.saved AS SELECT seq, event FROM svc.outbox`); err != nil {
		t.Fatal(err)
	}
	if _, err := relay.RelayOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	// As if the relay died after the publish and before the mark (which
	// also drops the body) committed.
	if _, err := f.pool.Exec(context.Background(),
		`UPDATE svc.outbox o SET published_at = NULL, event = s.event FROM svc.saved s WHERE s.seq = o.seq`); err != nil {
		t.Fatal(err)
	}
	if n, err := relay.RelayOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("re-relay = %d, %v", n, err)
	}
	if got := f.streamMsgs(t); got != 2 {
		t.Errorf("stream holds %d messages after a re-publish, want 2", got)
	}
	// The re-publish is counted in the log, where fault runs read it.
	var counted []int64
	for _, entry := range logs.FilterMessage("stream already held re-published events").All() {
		counted = append(counted, entry.ContextMap()["duplicates"].(int64))
	}
	if diff := cmp.Diff([]int64{2}, counted); diff != "" {
		t.Errorf("duplicates logged per relay batch (-want +got):\n%s", diff)
	}
}

func TestClaimIsTrueOnlyOnce(t *testing.T) {
	f := setup(t)
	var first, second bool
	claim := func(out *bool) {
		err := pgdb.InTx(context.Background(), f.pool, func(tx pgx.Tx) error {
			var err error
			*out, err = f.store.Claim(context.Background(), tx, "router", "event-1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	claim(&first)
	claim(&second)
	if !first || second {
		t.Errorf("claims = %v, %v; want true then false", first, second)
	}
}

func TestRunWakesOnCommit(t *testing.T) {
	f := setup(t)
	f.relay.Poll = time.Hour // only a notification can wake it in time
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.relay.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// Wait until the relay is listening and idle, so that this enqueue can
	// only reach it by NOTIFY.
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		var n int
		err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN%' AND state = 'idle'`).Scan(&n)
		if err == nil && n == 0 {
			err = fmt.Errorf("relay not listening yet")
		}
		return err
	})
	f.enqueue(t, event(t, 7))
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if got := f.streamMsgs(t); got != 1 {
			return fmt.Errorf("stream holds %d", got)
		}
		return nil
	})
}

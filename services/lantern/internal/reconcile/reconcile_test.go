package reconcile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/reconcile"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestFindAndRequeue sets up the intake's outbox and two consumers of its
// events, the router (consumed_events) and the ledger (its entries), and
// checks that only the published event one of them never applied is found
// and requeued: not one both applied, not one still unpublished, not one
// published within the grace period.
func TestFindAndRequeue(t *testing.T) {
	ctx := context.Background()
	srv := natstest.RunServer(t)
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{Replicas: 1, DuplicateWindow: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for name, filter := range map[string]string{"router": "sg.incident.reported", "ledger": bus.EventsSubjects} {
		if _, err := js.CreateOrUpdateConsumer(ctx, bus.EventsStream, jetstream.ConsumerConfig{Durable: name,
			FilterSubject: filter, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := pgdb.Open(ctx, pgtest.NewDatabase(t, "reconcile-empty", nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, schema := range []string{"intake", "router"} {
		if err := outbox.New(schema).Migrate(ctx, pool); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, pool.Exec, `CREATE SCHEMA ledger; CREATE TABLE ledger.entries (event_id text PRIMARY KEY, event bytea)`)
	mustExec(t, pool.Exec, `INSERT INTO intake.outbox (event_id, subject, event, published_at) VALUES
		('both-applied', 'sg.incident.reported', '{}', now() - interval '1 hour'),
		('router-missed', 'sg.incident.reported', '{}', now() - interval '1 hour'),
		('pruned', 'sg.incident.reported', '', now() - interval '2 hours'),
		('pruned-lost', 'sg.incident.reported', '', now() - interval '2 hours'),
		('unpublished', 'sg.incident.reported', '{}', NULL),
		('in-flight', 'sg.incident.reported', '{}', now())`)
	mustExec(t, pool.Exec, `INSERT INTO router.consumed_events (consumer, event_id) VALUES ('router', 'both-applied');
		INSERT INTO ledger.entries VALUES ('both-applied', NULL), ('router-missed', NULL),
			('pruned', '{"specversion":"1.0","id":"pruned","source":"lantern/intake","type":"org.lantern.incident.reported.v1"}')`)

	r := reconcile.Reconciler{Pool: pool, JS: js}
	gaps, err := r.Find(ctx, 24*time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	gap := func(id, consumer string) reconcile.Gap {
		return reconcile.Gap{Outbox: "intake", EventID: id, Subject: "sg.incident.reported", Consumer: consumer}
	}
	want := []reconcile.Gap{gap("pruned", "router"), gap("pruned-lost", "ledger"), gap("pruned-lost", "router"), gap("router-missed", "router")}
	if diff := cmp.Diff(want, gaps); diff != "" {
		t.Fatalf("gaps (-want +got):\n%s", diff)
	}
	// A pruned body comes back from the ledger's copy; one the ledger never
	// got cannot be published again, and Requeue says so.
	n, err := r.Requeue(ctx, gaps)
	if n != 2 || err == nil || !strings.Contains(err.Error(), "pruned-lost") {
		t.Fatalf("Requeue = %d, %v; want 2 rows and an error naming pruned-lost", n, err)
	}
	restored := pgtest.Strings(t, pool, `SELECT convert_from(event, 'UTF8') FROM intake.outbox WHERE event_id = 'pruned'`)
	if len(restored) != 1 || !strings.Contains(restored[0], `"id":"pruned"`) {
		t.Errorf("pruned body after requeueing = %q, want the ledger's copy", restored)
	}
	unpublished := pgtest.Strings(t, pool, `SELECT event_id FROM intake.outbox WHERE published_at IS NULL ORDER BY 1`)
	if diff := cmp.Diff([]string{"pruned", "router-missed", "unpublished"}, unpublished); diff != "" {
		t.Errorf("unpublished outbox rows after requeueing (-want +got):\n%s", diff)
	}
}

func mustExec[T any](t *testing.T, exec func(context.Context, string, ...any) (T, error), sql string) {
	t.Helper()
	if _, err := exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

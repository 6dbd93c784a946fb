package dlq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/dlq"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// world is a JetStream server with Lantern's streams and two consumers:
// "notifier", whose effects go to PostgreSQL once per event and which fails
// while broken, and "auditor", which refuses everything as permanent.
type world struct {
	t       *testing.T
	natsURL string
	js      jetstream.JetStream
	pool    *pgxpool.Pool
	broken  atomic.Bool
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := natstest.RunServer(t)
	js := srv.Streams(t)
	w := &world{t: t, natsURL: srv.URL(), js: js, pool: effectsDatabase(t)}
	w.broken.Store(true)
	w.consume("notifier", "sg.notification.requested.>", w.notify)
	w.consume("auditor", "sg.incident.reported", func(context.Context, cloudevent.Event) error {
		return bus.Permanent(errors.New("auditor cannot read this event"))
	})
	return w
}

func effectsDatabase(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgdb.Open(context.Background(), pgtest.NewDatabase(t, "dlq-empty", nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := outbox.New("notifier").Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `CREATE TABLE notifier.effects (event_id text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return pool
}

func (w *world) consume(durable, subject string, h bus.Handler) {
	spec := bus.ConsumerSpec{Durable: durable, Subjects: []string{subject}, MaxDeliver: 2, Backoff: []time.Duration{5 * time.Millisecond}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Consume(ctx, w.js, spec, h, zaptest.NewLogger(w.t)) }()
	w.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("consumer %s returned %v", durable, err)
		}
	})
}

// notify applies an event once, as every Lantern consumer does: the effect
// and the claim on the event id commit together.
func (w *world) notify(ctx context.Context, e cloudevent.Event) error {
	if w.broken.Load() {
		return errors.New("recipient endpoint refused the connection")
	}
	store := outbox.New("notifier")
	return pgdb.InTx(ctx, w.pool, func(tx pgx.Tx) error {
		first, err := store.Claim(ctx, tx, "notifier", e.ID())
		if err != nil || !first {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO notifier.effects (event_id) VALUES ($1)`, e.ID())
		return err
	})
}

func (w *world) effects() int {
	w.t.Helper()
	var n int
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM notifier.effects`).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) publish(e cloudevent.Event, subject string) {
	w.t.Helper()
	if _, err := bus.NewPublisher(w.js).Publish(context.Background(), e, subject); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) run(args ...string) (string, error) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	err := runDLQ(append(args, "--nats-url", w.natsURL), &out, &errOut)
	return out.String(), err
}

func (w *world) listJSON(args ...string) []map[string]any {
	w.t.Helper()
	out, err := w.run(append([]string{"list", "--format", "json"}, args...)...)
	if err != nil {
		w.t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		w.t.Fatalf("list output is not JSON: %v\n%s", err, out)
	}
	return entries
}

func (w *world) waitForDeadLetters(n int) {
	w.t.Helper()
	natstest.CheckFor(w.t, 20*time.Second, 20*time.Millisecond, func() error {
		if got := len(w.listJSON()); got != n {
			return fmt.Errorf("%d dead letters, want %d", got, n)
		}
		return nil
	})
}

func newEvent(t *testing.T, n int, typ events.Type) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: cloudevent.DeriveID("dlq-test", fmt.Sprint(n)), Type: typ,
		Source: events.SourceRouter, Subject: fmt.Sprint(n), IncidentID: fmt.Sprintf("incident-%d", n),
		Actor: "service:test", Time: time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC), Data: map[string]int{"n": n}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func seqOf(t *testing.T, entries []map[string]any, consumer string) int {
	t.Helper()
	for _, e := range entries {
		if e["consumer"] == consumer {
			return int(e["seq"].(float64))
		}
	}
	t.Fatalf("no dead letter of %s in %v", consumer, entries)
	return 0
}

func TestListShowsWhyEachMessageWasGivenUp(t *testing.T) {
	w := newWorld(t)
	request, report := newEvent(t, 1, events.NotificationRequested), newEvent(t, 2, events.IncidentReported)
	w.publish(request, "sg.notification.requested.school")
	w.publish(report, "sg.incident.reported")
	w.waitForDeadLetters(2)

	got := w.listJSON("--consumer", "notifier")
	want := []map[string]any{{"consumer": "notifier", "subject": "sg.notification.requested.school", "stream_seq": 1.0,
		"event_id": request.ID(), "event_type": string(events.NotificationRequested),
		"reason": "recipient endpoint refused the connection", "deliveries": 2.0}}
	ignore := cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "seq" || k == "dead_lettered_at" })
	if diff := cmp.Diff(want, got, ignore); diff != "" {
		t.Errorf("notifier's dead letters (-want +got):\n%s", diff)
	}

	text, err := w.run("list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "SEQ") {
		t.Fatalf("text listing has %d lines, want a header and two rows:\n%s", len(lines), text)
	}
	for _, want := range []string{"notifier", "auditor", "notification.requested", "auditor cannot read this event"} {
		if !strings.Contains(text, want) {
			t.Errorf("text listing lacks %q:\n%s", want, text)
		}
	}
}

func TestRedriveAfterTheFixDeliversOnceAndHidesTheDeadLetter(t *testing.T) {
	w := newWorld(t)
	request := newEvent(t, 3, events.NotificationRequested)
	w.publish(request, "sg.notification.requested.gp")
	w.publish(newEvent(t, 4, events.IncidentReported), "sg.incident.reported")
	w.waitForDeadLetters(2)
	notifierSeq := seqOf(t, w.listJSON(), "notifier")

	w.broken.Store(false)
	out, err := w.run("redrive", "--consumer", "notifier", "--all")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("redrove dead letter %d (notifier, event %s) to sg.notification.requested.gp", notifierSeq, request.ID()); !strings.HasPrefix(out, want) {
		t.Errorf("redrive said %q, want it to start %q", out, want)
	}
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if n := w.effects(); n != 1 {
			return fmt.Errorf("%d effects, want 1", n)
		}
		return nil
	})

	if open := w.listJSON(); len(open) != 1 || open[0]["consumer"] != "auditor" {
		t.Errorf("open dead letters after the redrive = %v, want only the auditor's", open)
	}
	every := w.listJSON("--all")
	if len(every) != 2 || every[seqIndex(every, notifierSeq)]["redriven_at"] == nil {
		t.Errorf("--all listing = %v, want both, the notifier's marked redriven", every)
	}
	if _, err := w.run("redrive", "--seq", fmt.Sprint(notifierSeq)); err == nil || !strings.Contains(err.Error(), "no open dead letter") {
		t.Errorf("second redrive = %v, want a refusal", err)
	}
	if n := w.effects(); n != 1 {
		t.Errorf("%d effects after everything, want 1", n)
	}
}

func seqIndex(entries []map[string]any, seq int) int {
	for i, e := range entries {
		if int(e["seq"].(float64)) == seq {
			return i
		}
	}
	return 0
}

func TestCommandLineMistakesAreRefused(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "needs a command"},
		{"unknown command", []string{"purge"}, `unknown command "purge"`},
		{"redrive without a target", []string{"redrive", "--nats-url", "nats://127.0.0.1:1"}, "exactly one of --seq N or --all"},
		{"redrive with both targets", []string{"redrive", "--seq", "1", "--all", "--nats-url", "nats://127.0.0.1:1"}, "[all seq] were all set"},
		{"unknown format", []string{"list", "--format", "xml", "--nats-url", "nats://127.0.0.1:1"}, "--format"},
		{"no server", []string{"list", "--nats-url", ""}, "no NATS server"},
		{"stray argument", []string{"list", "everything"}, "takes no arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runDLQ(tc.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run(%q) = %v, want an error about %q", tc.args, err, tc.want)
			}
		})
	}
}

// runDLQ runs `lantern dlq` with args.
func runDLQ(args []string, out, errOut *bytes.Buffer) error {
	cmd := dlq.NewCommand()
	command.Prepare(cmd)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	return cmd.ExecuteContext(context.Background())
}

package inbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

// broker is a real JetStream server with Lantern's streams, consumed by the
// deliverer under test the way the delivery service consumes.
type broker struct {
	js  jetstream.JetStream
	pub *bus.Publisher
}

func startBroker(t *testing.T, d *inbox.Deliverer) broker {
	t.Helper()
	js := natstest.RunServer(t).Streams(t)
	spec := d.ConsumerSpec(5 * time.Second)
	spec.MaxDeliver, spec.Backoff = 3, []time.Duration{10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Consume(ctx, js, spec, d.Handle, zaptest.NewLogger(t)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("consume returned %v", err)
		}
	})
	return broker{js: js, pub: bus.NewPublisher(js)}
}

func (b broker) publish(t *testing.T, e cloudevent.Event) {
	t.Helper()
	if _, err := b.pub.Publish(context.Background(), e, "sg.notification.requested.school"); err != nil {
		t.Fatal(err)
	}
}

// deadLetters waits until the dead-letter stream holds want messages.
func (b broker) deadLetters(t *testing.T, want int) []bus.StoredDeadLetter {
	t.Helper()
	var got []bus.StoredDeadLetter
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		var err error
		got, err = bus.DeadLetters(context.Background(), b.js)
		if err == nil && len(got) != want {
			err = fmt.Errorf("%d dead letters, want %d", len(got), want)
		}
		return err
	})
	return got
}

// outboxEvents returns the events waiting in the delivery outbox, by type.
func outboxEvents(t *testing.T, pool *pgxpool.Pool) map[events.Type][]cloudevent.Event {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT event FROM delivery.outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[events.Type][]cloudevent.Event{}
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		e := cloudevent.Event{}
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatal(err)
		}
		out[events.Type(e.Type())] = append(out[events.Type(e.Type())], e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func failedData(t *testing.T, e cloudevent.Event) events.NotificationFailedData {
	t.Helper()
	var d events.NotificationFailedData
	if err := cloudevent.DecodeData(e, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// waitFor polls the delivery outbox until it holds n events of type typ.
func waitFor(t *testing.T, pool *pgxpool.Pool, typ events.Type, n int) []cloudevent.Event {
	t.Helper()
	var got []cloudevent.Event
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		got = outboxEvents(t, pool)[typ]
		if len(got) != n {
			return fmt.Errorf("%d %s events, want %d", len(got), typ, n)
		}
		return nil
	})
	return got
}

func TestPoisonedRequestIsDeadLetteredAndAnnouncedOnce(t *testing.T) {
	d, pool := setup(t)
	b := startBroker(t, d)
	e := requested(t)
	var data map[string]any
	if err := json.Unmarshal(e.Data(), &data); err != nil {
		t.Fatal(err)
	}
	data["notice"] = map[string]any{"unexpected": "field"}
	if err := e.SetData("application/json", data); err != nil {
		t.Fatal(err)
	}
	b.publish(t, e)

	letters := b.deadLetters(t, 1)
	failed := waitFor(t, pool, events.NotificationFailed, 1)
	want := events.NotificationFailedData{NotificationID: "91070054-ba23-4568-a187-f62054966f2e",
		IncidentID: "273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512",
		Recipient: events.Recipient{Kind: events.KindSchool, ID: "999001", Name: "Example Primary School",
			Email: "dsl@example-primary.example"}, Attempts: 1}
	got := failedData(t, failed[0])
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(events.NotificationFailedData{}, "FailedAt", "Reason")); diff != "" {
		t.Errorf("notification.failed (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(got.Reason, "the request does not match its schema; dead-lettered by consumer delivery") {
		t.Errorf("reason = %q", got.Reason)
	}
	if letters[0].EventID != e.ID() || letters[0].Consumer != inbox.Consumer {
		t.Errorf("dead letter = %+v", letters[0])
	}
	if n := count(t, pool, "inbox"); n != 0 {
		t.Errorf("a poisoned request reached %d inboxes", n)
	}
}

func TestHookRunTwiceForOneDeadLetterAnnouncesOnce(t *testing.T) {
	d, pool := setup(t)
	e := requested(t)
	dl := bus.DeadLetter{Consumer: inbox.Consumer, Subject: "sg.notification.requested.school", StreamSeq: 7,
		Deliveries: 8, Attempts: 8, Reason: "database unavailable", Event: &e}
	for range 2 {
		if err := d.Failed(context.Background(), dl); err != nil {
			t.Fatal(err)
		}
	}
	failed := outboxEvents(t, pool)[events.NotificationFailed]
	if len(failed) != 1 {
		t.Fatalf("%d notification.failed events, want 1", len(failed))
	}
	if got := failedData(t, failed[0]); got.Attempts != 8 || strings.Contains(got.Reason, "database unavailable") {
		t.Errorf("failure = %+v: want 8 attempts and none of the handler's own words", got)
	}
}

func TestUndeliverableRequestIsAnnouncedThenDeliveredOnceWhenRedriven(t *testing.T) {
	d, pool := setup(t)
	b := startBroker(t, d)
	breakInbox(t, pool)
	e := requested(t)
	b.publish(t, e)

	letters := b.deadLetters(t, 1)
	failed := waitFor(t, pool, events.NotificationFailed, 1)
	if got := failedData(t, failed[0]); got.Attempts != 3 || !strings.HasPrefix(got.Reason, "delivery kept failing") {
		t.Errorf("failure = %+v, want 3 attempts of a failing delivery", got)
	}

	fixInbox(t, pool)
	if _, err := bus.Redrive(context.Background(), b.js, letters[0].Seq); err != nil {
		t.Fatal(err)
	}
	waitFor(t, pool, events.NotificationDelivered, 1)
	if _, err := bus.Redrive(context.Background(), b.js, letters[0].Seq); !errors.Is(err, bus.ErrAlreadyRedriven) {
		t.Errorf("second redrive = %v, want ErrAlreadyRedriven", err)
	}
	// A copy that slipped past the marker, as two redrives racing would
	// make, is recognised by its event id.
	if _, err := b.js.PublishMsg(context.Background(), redeliveredCopy(t, e)); err != nil {
		t.Fatal(err)
	}
	natstest.WaitAcked(t, b.js, inbox.Consumer, 3)
	if n := count(t, pool, "inbox"); n != 1 {
		t.Errorf("inbox rows = %d, want 1", n)
	}
	if got := len(outboxEvents(t, pool)[events.NotificationFailed]); got != 1 {
		t.Errorf("notification.failed events = %d, want still 1", got)
	}
}

func TestRequestAlreadyDeliveredIsNotAnnouncedAsFailed(t *testing.T) {
	d, pool := setup(t)
	e := requested(t)
	if err := d.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	// Deliveries that commit and then crash before acknowledging run out
	// too; the notice is in its inbox all the same.
	dl := bus.DeadLetter{Consumer: inbox.Consumer, StreamSeq: 3, Deliveries: 9, Attempts: 8, Reason: "gave up after 8 deliveries", Event: &e}
	if err := d.Failed(context.Background(), dl); err != nil {
		t.Fatal(err)
	}
	if n := len(outboxEvents(t, pool)[events.NotificationFailed]); n != 0 {
		t.Errorf("%d notification.failed events for a delivered notice", n)
	}
}

func TestDeadLetterWithoutANotificationIsLeftToTheStream(t *testing.T) {
	d, pool := setup(t)
	other := requested(t)
	other.SetType(string(events.TriageDecided))
	noIDs := requested(t)
	if err := noIDs.SetData("application/json", map[string]string{"notification_id": "not-a-uuid"}); err != nil {
		t.Fatal(err)
	}
	for name, ev := range map[string]*cloudevent.Event{"unreadable": nil, "another type": &other, "no valid ids": &noIDs} {
		if err := d.Failed(context.Background(), bus.DeadLetter{Consumer: inbox.Consumer, StreamSeq: 1, Event: ev}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := count(t, pool, "outbox"); n != 0 {
		t.Errorf("%d events raised for dead letters that name no notification", n)
	}
}

// breakInbox makes every insert into the inbox fail, as a lost disk or a
// bad migration would, until fixInbox.
func breakInbox(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		CREATE FUNCTION delivery.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'inbox refused by test'; END $$;
		CREATE TRIGGER refuse BEFORE INSERT ON delivery.inbox FOR EACH ROW EXECUTE FUNCTION delivery.refuse();`)
	if err != nil {
		t.Fatal(err)
	}
}

func fixInbox(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `DROP TRIGGER refuse ON delivery.inbox`); err != nil {
		t.Fatal(err)
	}
}

// redeliveredCopy is the request as a second redrive would publish it:
// same event, new message id.
func redeliveredCopy(t *testing.T, e cloudevent.Event) *nats.Msg {
	t.Helper()
	msg, err := cloudevent.ToMsg(e, "sg.notification.requested.school")
	if err != nil {
		t.Fatal(err)
	}
	msg.Header.Set(cloudevent.HeaderMsgID, "copy-of-"+e.ID())
	return msg
}

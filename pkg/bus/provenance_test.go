package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

func forged(t *testing.T, id string, typ events.Type, source string) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: id, Type: typ, Source: source, Subject: "n-1", IncidentID: "incident-1",
		Actor: "service:test", Time: time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC), Data: map[string]int{"n": 1}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCheckProvenance(t *testing.T) {
	cases := []struct {
		subject string
		typ     events.Type
		source  string
		ok      bool
	}{
		{"sg.notification.acknowledged.school", events.NotificationAcknowledged, events.SourceWorkspace, true},
		{"sg.access.recorded", events.AccessRecorded, events.SourceIntake, true},
		{"sg.notification.acknowledged.school", events.NotificationAcknowledged, events.SourceEscalation, false},
		{"sg.sla.breached.school", events.NotificationAcknowledged, events.SourceWorkspace, false},
		{"sg.incident.reported", events.IncidentReported, "/elsewhere/intake", false},
		{"sg.unknown", events.IncidentReported, events.SourceIntake, false},
		{"", events.IncidentReported, events.SourceIntake, false},
	}
	for _, c := range cases {
		err := bus.CheckProvenance(c.subject, forged(t, "x", c.typ, c.source))
		if (err == nil) != c.ok {
			t.Errorf("%s %s from %s: err = %v, want ok=%v", c.subject, c.typ, c.source, err, c.ok)
		}
		if err != nil && !errors.Is(err, bus.ErrNotEntitled) {
			t.Errorf("error %v is not ErrNotEntitled", err)
		}
	}
}

// TestForgedEventIsRefusedAndDeadLetteredWithoutEffect: an event on a
// subject its claimed source does not own never reaches the handler, is
// dead-lettered with its reason, and does not run the dead-letter hook
// (which for delivery would raise notification.failed).
func TestForgedEventIsRefusedAndDeadLetteredWithoutEffect(t *testing.T) {
	f := setup(t)
	var handled, hooked atomic.Int32
	h := bus.Chain(func(context.Context, cloudevent.Event) error { handled.Add(1); return nil }, bus.Provenance(zaptest.NewLogger(t)))
	f.consume(t, bus.ConsumerSpec{Durable: "prov", Subjects: []string{"sg.>"},
		OnDeadLetter: func(context.Context, bus.DeadLetter) error { hooked.Add(1); return nil }}, h)
	ctx := context.Background()
	// Published on the escalation's own subject, claiming the workspace.
	if _, err := f.pub.Publish(ctx, forged(t, "forged-1", events.NotificationAcknowledged, events.SourceWorkspace), "sg.sla.breached.school"); err != nil {
		t.Fatal(err)
	}
	genuine := forged(t, "genuine-1", events.SLABreached, events.SourceEscalation)
	if _, err := f.pub.Publish(ctx, genuine, "sg.sla.breached.school"); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		letters, err := bus.DeadLetters(ctx, f.js)
		if err != nil {
			return err
		}
		if len(letters) != 1 || letters[0].EventID != "forged-1" || !strings.Contains(letters[0].Reason, "refused") {
			return errors.New("the forged event is not dead-lettered as refused")
		}
		if handled.Load() != 1 {
			return errors.New("the genuine event was not handled")
		}
		return nil
	})
	if hooked.Load() != 0 {
		t.Fatal("the dead-letter hook ran for a refused event")
	}
}

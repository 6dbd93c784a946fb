package inbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/smtptest"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

const managerAddress = "education-safeguarding@medway.example"

// alarm is an SLA event of escalation's about the example notice, due at
// 08:30 on Monday 23 November 2026.
func alarm(t *testing.T, typ events.Type, step, manager, police string) cloudevent.Event {
	t.Helper()
	due := time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	e, err := cloudevent.New(cloudevent.Spec{
		ID: cloudevent.DeriveID(exampleID, step, string(typ)), Type: typ, Source: events.SourceEscalation,
		Subject: exampleID, IncidentID: "273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512", Actor: "service:escalation", Time: due,
		Data: events.SLAData{NotificationID: exampleID, IncidentID: "273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512",
			Recipient: events.Recipient{Kind: events.KindSchool, ID: "999001", Name: "Example Primary School", Email: exampleAddress},
			RuleID:    "R5", Step: step, DueAt: due, ObservedAt: due.Add(time.Second), ManagerContact: manager, PoliceContact: police},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func messagesWithID(msgs []smtptest.Message) map[string]int {
	out := map[string]int{}
	for _, m := range msgs {
		out[m.Header("Message-Id")]++
	}
	return out
}

func TestBreachTellsTheManagerOnceByEmail(t *testing.T) {
	r := newRig(t, nil, inbox.Retry{})
	breach := alarm(t, events.SLABreached, events.StepAcknowledgement, managerAddress, "")
	r.handle(t, breach)
	r.handle(t, breach) // redelivered
	r.dispatch(t)
	r.dispatch(t)
	msgs := r.smtp.To(managerAddress)
	if len(msgs) != 1 || len(r.smtp.Messages()) != 1 {
		t.Fatalf("messages = %d (to the manager %d), want one alarm", len(r.smtp.Messages()), len(msgs))
	}
	m := msgs[0]
	if id := m.Header("Message-Id"); !strings.HasPrefix(id, "<"+breach.ID()+".") || !strings.HasSuffix(id, "@lantern.test>") {
		t.Errorf("Message-ID = %q, want one named from the SLA event %s", id, breach.ID())
	}
	if got := m.Header("Subject"); got != "Deadline missed: a notice for Example Primary School has not been acknowledged" {
		t.Errorf("Subject = %q", got)
	}
	text, html := m.Bodies(t)
	for _, part := range []string{text, html} {
		for _, want := range []string{"https://lantern.example/notices/" + exampleID, "08:30 on Monday 23 November 2026 (UK time)",
			"Example Primary School", "manager"} {
			if !strings.Contains(part, want) {
				t.Errorf("alarm lacks %q:\n%s", want, part)
			}
		}
	}
	for _, s := range examplePersonal {
		if strings.Contains(strings.ToLower(string(m.Raw)), strings.ToLower(s)) {
			t.Errorf("the alarm holds personal data %q", s)
		}
	}
	// An alarm is not a notice: it announces nothing.
	if got := r.events(t, events.NotificationDelivered); len(got) != 0 {
		t.Errorf("an alarm raised %d notification.delivered", len(got))
	}
}

func TestAtRiskAndBreachAreTwoAlarmsAndAReceiptBreachTellsThePoliceToo(t *testing.T) {
	r := newRig(t, nil, inbox.Retry{})
	r.handle(t, alarm(t, events.SLAAtRisk, events.StepDelivery, managerAddress, ""))
	r.handle(t, alarm(t, events.SLABreached, events.StepDelivery, managerAddress, ""))
	r.handle(t, alarm(t, events.SLABreached, events.StepReceipt, "mash@medway.example", "ppn-desk@kent.police.example"))
	r.dispatch(t)
	if got := len(r.smtp.To(managerAddress)); got != 2 {
		t.Errorf("manager got %d alarms, want the at-risk one and the breach", got)
	}
	for _, to := range []string{"mash@medway.example", "ppn-desk@kent.police.example"} {
		msgs := r.smtp.To(to)
		if len(msgs) != 1 {
			t.Errorf("%s got %d alarms, want 1", to, len(msgs))
			continue
		}
		if got := msgs[0].Header("Subject"); !strings.Contains(got, "after its deadline") {
			t.Errorf("%s: receipt breach subject %q", to, got)
		}
	}
	subjects := map[string]bool{}
	for _, m := range r.smtp.To(managerAddress) {
		subjects[m.Header("Subject")] = true
	}
	if !subjects["Deadline at risk: a notice for Example Primary School has not been delivered"] ||
		!subjects["Deadline missed: a notice for Example Primary School has not been delivered"] {
		t.Errorf("manager's subjects = %v", subjects)
	}
}

func TestAlarmWithoutAnEmailContactSendsNothing(t *testing.T) {
	r := newRig(t, nil, inbox.Retry{})
	r.handle(t, alarm(t, events.SLABreached, events.StepDelivery, "", ""))
	r.handle(t, alarm(t, events.SLAAtRisk, events.StepDelivery, "01632 960000", ""))
	r.dispatch(t)
	if n := len(r.smtp.Messages()); n != 0 {
		t.Errorf("%d messages for alarms with no e-mail contact", n)
	}
}

func TestAlarmRetriedThroughAnOutageAndACrashIsOneMessage(t *testing.T) {
	r := newRig(t, nil, inbox.Retry{Attempts: 10, Backoff: 2 * time.Second, MaxBackoff: 10 * time.Second, Timeout: 5 * time.Second})
	breach := alarm(t, events.SLABreached, events.StepAcknowledgement, managerAddress, "")
	r.smtp.Down()
	r.handle(t, breach)
	for range 30 {
		r.dispatch(t)
		r.clock.Advance(time.Second)
	}
	if n := len(r.smtp.Messages()); n != 0 {
		t.Fatalf("%d messages while the server was down", n)
	}
	r.smtp.Up()
	for range 15 {
		r.dispatch(t)
		r.clock.Advance(time.Second)
	}
	if got := messagesWithID(r.smtp.Messages()); len(got) != 1 || sum(got) != 1 {
		t.Fatalf("after the outage: %v, want one message", got)
	}
	// A crash after the server's acceptance and before the commit leaves
	// the attempt pending; once its lease runs out it is sent again, as
	// the same message.
	if _, err := r.pool.Exec(context.Background(), `UPDATE delivery.alarm_attempt SET state = 'pending', accepted_at = NULL,
		next_at = $1`, r.clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(2 * time.Minute)
	r.dispatch(t)
	got := messagesWithID(r.smtp.Messages())
	if len(got) != 1 || sum(got) != 2 {
		t.Errorf("after the crash: %v, want the one Message-ID sent twice", got)
	}
	var state string
	if err := r.pool.QueryRow(context.Background(), `SELECT state FROM delivery.alarm_attempt`).Scan(&state); err != nil || state != "accepted" {
		t.Errorf("attempt state = %q (%v), want accepted", state, err)
	}
}

func TestAlarmGivenUpLeavesTheNoticeAlone(t *testing.T) {
	r := newRig(t, nil, inbox.Retry{Attempts: 2, Backoff: time.Second, MaxBackoff: time.Second, Timeout: 5 * time.Second})
	r.smtp.Down()
	r.handle(t, alarm(t, events.SLABreached, events.StepDelivery, managerAddress, ""))
	for range 5 {
		r.dispatch(t)
		r.clock.Advance(2 * time.Second)
	}
	var state string
	var attempts int
	if err := r.pool.QueryRow(context.Background(), `SELECT state, attempts FROM delivery.alarm_attempt`).Scan(&state, &attempts); err != nil {
		t.Fatal(err)
	}
	if state != "failed" || attempts != 2 {
		t.Errorf("attempt = %s after %d, want failed after 2", state, attempts)
	}
	if got := r.events(t, events.NotificationFailed); len(got) != 0 {
		t.Errorf("a lost alarm raised notification.failed: %s", got)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

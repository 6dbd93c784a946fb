package sla_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/contacts"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

// The school notice most tests use: requested on a Friday night, due at the
// school's start on Monday (GMT, so UTC and London agree), at risk an hour
// before.
var (
	fridayNight = time.Date(2026, 11, 20, 22, 40, 5, 0, time.UTC)
	mondayStart = time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	mondayRisk  = mondayStart.Add(-time.Hour)
)

func schoolAlarm(n notice, typ events.Type, step string, observed time.Time) alarm {
	subject, _ := events.Subject(typ, events.KindSchool)
	return alarm{Type: typ, Subject: subject, NotificationID: n.ID, Step: step, RuleID: n.RuleID,
		DueAt: n.DueAt, ObservedAt: observed, ManagerContact: chathamHill.Email}
}

func TestAlarmsFireOnceEachAtTheirInstant(t *testing.T) {
	b := setup(t, fridayNight)
	n := newNotice("school-silent", chathamHill, fridayNight, mondayStart)
	b.handle(t, n.requested(t))

	b.ticks(t,
		tick{fridayNight, 0},
		tick{mondayRisk.Add(-time.Microsecond), 0},
		tick{mondayRisk, 2}, // delivery and acknowledgement are both at risk
		tick{mondayRisk.Add(time.Minute), 0},
		tick{mondayStart, 0}, // due at 08:30 is not missed at 08:30
		tick{mondayStart.Add(time.Microsecond), 2},
		tick{mondayStart.Add(time.Hour), 0},
		tick{mondayStart.Add(240 * time.Hour), 0},
	)
	want := []alarm{
		schoolAlarm(n, events.SLAAtRisk, events.StepAcknowledgement, mondayRisk),
		schoolAlarm(n, events.SLAAtRisk, events.StepDelivery, mondayRisk),
		schoolAlarm(n, events.SLABreached, events.StepAcknowledgement, mondayStart.Add(time.Microsecond)),
		schoolAlarm(n, events.SLABreached, events.StepDelivery, mondayStart.Add(time.Microsecond)),
	}
	if diff := cmp.Diff(want, b.alarms(t)); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}
}

func TestDeliveredButNotAcknowledgedAlarmsOnlyForAcknowledgement(t *testing.T) {
	b := setup(t, fridayNight)
	n := newNotice("school-unread", chathamHill, fridayNight, mondayStart)
	b.handle(t, n.requested(t), n.delivered(t, fridayNight.Add(time.Second)))
	b.tickAt(t, mondayRisk)
	b.tickAt(t, mondayStart.Add(time.Second))
	want := []alarm{
		schoolAlarm(n, events.SLAAtRisk, events.StepAcknowledgement, mondayRisk),
		schoolAlarm(n, events.SLABreached, events.StepAcknowledgement, mondayStart.Add(time.Second)),
	}
	if diff := cmp.Diff(want, b.alarms(t)); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}
}

func TestRestartLosesNoDeadline(t *testing.T) {
	cases := []struct {
		name string
		// before runs on the first instance, whose state the second
		// instance inherits.
		before []time.Time
		// after is when the second instance first ticks.
		after time.Time
		want  []events.Type
	}{
		{
			name:   "down across the at-risk time: at risk on start, breached later",
			before: []time.Time{mondayRisk.Add(-time.Hour)},
			after:  mondayRisk.Add(10 * time.Minute),
			want:   []events.Type{events.SLAAtRisk, events.SLABreached},
		},
		{
			name:   "down across the deadline: breached on start, and no late warning",
			before: []time.Time{mondayRisk.Add(-time.Hour)},
			after:  mondayStart.Add(time.Hour),
			want:   []events.Type{events.SLABreached},
		},
		{
			name:   "at risk before the restart: not raised again",
			before: []time.Time{mondayRisk},
			after:  mondayRisk.Add(time.Minute),
			want:   []events.Type{events.SLAAtRisk, events.SLABreached},
		},
		{
			name:   "breached before the restart: nothing more",
			before: []time.Time{mondayRisk, mondayStart.Add(time.Second)},
			after:  mondayStart.Add(time.Minute),
			want:   []events.Type{events.SLAAtRisk, events.SLABreached},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, fridayNight)
			n := newNotice("school-restart", chathamHill, fridayNight, mondayStart)
			b.handle(t, n.requested(t), n.delivered(t, fridayNight))
			for _, at := range tc.before {
				b.tickAt(t, at)
			}
			// The first instance stops; a new one starts on the same
			// database with nothing but what PostgreSQL holds.
			b.pool.Close()
			b.pool = b.openPool(t)
			b.esc = b.newEscalator(t, b.pool)
			b.tickAt(t, tc.after)
			b.tickAt(t, mondayStart.Add(48*time.Hour))
			var got []events.Type
			for _, a := range b.alarms(t) {
				got = append(got, a.Type)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("alarm types (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNothingFiresForStepsDoneInTime(t *testing.T) {
	mashDue := fridayNight.Add(24 * time.Hour)
	cases := []struct {
		name   string
		notice notice
		done   func(t *testing.T, n notice) []cloudevent.Event
	}{
		{
			name:   "school delivered and acknowledged at once",
			notice: newNotice("school-done", chathamHill, fridayNight, mondayStart),
			done: func(t *testing.T, n notice) []cloudevent.Event {
				return []cloudevent.Event{n.delivered(t, fridayNight), n.acknowledged(t, fridayNight.Add(time.Hour))}
			},
		},
		{
			name:   "school acknowledged with no delivery event seen",
			notice: newNotice("school-acknowledged-only", chathamHill, fridayNight, mondayStart),
			done: func(t *testing.T, n notice) []cloudevent.Event {
				return []cloudevent.Event{n.acknowledged(t, fridayNight.Add(time.Hour))}
			},
		},
		{
			name:   "MASH delivered and triaged within the hours",
			notice: newNotice("mash-done", medwayMASH, fridayNight, mashDue),
			done: func(t *testing.T, n notice) []cloudevent.Event {
				return []cloudevent.Event{n.delivered(t, fridayNight.Add(time.Second)), n.triaged(t, fridayNight.Add(time.Hour))}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, fridayNight)
			b.handle(t, tc.notice.requested(t))
			b.tickAt(t, fridayNight.Add(time.Minute))
			b.handle(t, tc.done(t, tc.notice)...)
			for at := fridayNight; at.Before(fridayNight.Add(30 * 24 * time.Hour)); at = at.Add(17 * time.Minute) {
				b.tickAt(t, at)
			}
			if got := b.alarms(t); len(got) != 0 {
				t.Errorf("alarms raised for steps done in time: %+v", got)
			}
		})
	}
}

func TestEventsInAnyOrder(t *testing.T) {
	n := newNotice("mash-shuffled", medwayMASH, fridayNight, fridayNight.Add(time.Hour))
	n.TriageDueAt = fridayNight.Add(72 * time.Hour)
	delivered := fridayNight.Add(10 * time.Minute)
	requested, deliveredEvt, triaged := n.requested(t), n.delivered(t, delivered), n.triaged(t, delivered.Add(time.Hour))
	school := newNotice("school-shuffled", chathamHill, fridayNight, mondayStart)
	sRequested, sDelivered, sAcked := school.requested(t), school.delivered(t, fridayNight), school.acknowledged(t, fridayNight.Add(time.Hour))
	cases := []struct {
		name   string
		events []cloudevent.Event
	}{
		{"in order", []cloudevent.Event{requested, deliveredEvt, triaged, sRequested, sDelivered, sAcked}},
		{"delivered before requested", []cloudevent.Event{deliveredEvt, requested, triaged, sDelivered, sRequested, sAcked}},
		{"triaged before anything", []cloudevent.Event{triaged, deliveredEvt, requested, sAcked, sDelivered, sRequested}},
		{"triaged before delivered", []cloudevent.Event{requested, triaged, deliveredEvt, sRequested, sAcked, sDelivered}},
		{"acknowledged with no delivery seen", []cloudevent.Event{requested, triaged, deliveredEvt, sRequested, sAcked}},
		{"every event twice", []cloudevent.Event{triaged, triaged, requested, deliveredEvt, requested, deliveredEvt,
			sAcked, sRequested, sAcked, sDelivered, sRequested}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, fridayNight)
			b.handle(t, tc.events...)
			wantMASH := []stepState{
				{Step: events.StepDelivery, DueAt: n.DueAt, State: "watching", Done: true},
				{Step: events.StepTriage, DueAt: n.TriageDueAt.UTC(), State: "watching", Done: true},
			}
			if diff := cmp.Diff(wantMASH, b.steps(t, n.ID)); diff != "" {
				t.Errorf("MASH steps (-want +got):\n%s", diff)
			}
			wantSchool := []stepState{
				{Step: events.StepAcknowledgement, DueAt: mondayStart, State: "watching", Done: true},
				{Step: events.StepDelivery, DueAt: mondayStart, State: "watching", Done: true},
			}
			if diff := cmp.Diff(wantSchool, b.steps(t, school.ID)); diff != "" {
				t.Errorf("school steps (-want +got):\n%s", diff)
			}
			b.tickAt(t, mondayStart.Add(30*24*time.Hour))
			if got := b.alarms(t); len(got) != 0 {
				t.Errorf("alarms raised for steps done in time: %+v", got)
			}
		})
	}
}

// TestTriageDeadline: the triage step is due when the router's R2
// deadline on the MASH notice says, counted from the receipt, whether or
// not the delivery has been heard of; a notice without one has no triage
// step.
func TestTriageDeadline(t *testing.T) {
	received := time.Date(2026, 10, 23, 16, 0, 0, 0, time.FixedZone("BST", 3600))
	cases := []struct {
		name      string
		triageDue time.Duration
		delivered bool
		// wantRisk is how long before the deadline the step is at risk.
		wantRisk time.Duration
	}{
		{name: "four hours: at risk an hour before", triageDue: 4 * time.Hour, delivered: true, wantRisk: time.Hour},
		{name: "one hour, delivery not yet heard of: a quarter of it", triageDue: time.Hour, wantRisk: 15 * time.Minute},
		{name: "five days: the full lead", triageDue: 120 * time.Hour, delivered: true, wantRisk: time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, received)
			n := newNotice("mash-triage", medwayMASH, received, received.Add(time.Hour))
			n.TriageDueAt = received.Add(tc.triageDue)
			b.handle(t, n.requested(t))
			if tc.delivered {
				b.handle(t, n.delivered(t, received.Add(time.Minute)))
			}
			due, risk := n.TriageDueAt, n.TriageDueAt.Add(-tc.wantRisk)
			b.tickAt(t, risk.Add(-time.Second))
			if got := onlyStep(b.alarms(t), events.StepTriage); len(got) != 0 {
				t.Errorf("a second before the at-risk time: triage alarms %+v", got)
			}
			b.tickAt(t, risk)
			b.tickAt(t, due.Add(time.Second))
			subject := func(typ events.Type) string { s, _ := events.Subject(typ, events.KindMASH); return s }
			want := []alarm{
				{Type: events.SLAAtRisk, Subject: subject(events.SLAAtRisk), NotificationID: n.ID, Step: events.StepTriage,
					RuleID: "R2", DueAt: due.UTC(), ObservedAt: risk.UTC(), ManagerContact: medwayMASH.Email},
				{Type: events.SLABreached, Subject: subject(events.SLABreached), NotificationID: n.ID, Step: events.StepTriage,
					RuleID: "R2", DueAt: due.UTC(), ObservedAt: due.Add(time.Second).UTC(), ManagerContact: medwayMASH.Email},
			}
			if diff := cmp.Diff(want, onlyStep(b.alarms(t), events.StepTriage)); diff != "" {
				t.Errorf("triage alarms (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no deadline on the notice: no triage step", func(t *testing.T) {
		b := setup(t, received)
		n := newNotice("mash-untimed", medwayMASH, received, received.Add(time.Hour))
		b.handle(t, n.requested(t), n.delivered(t, received))
		b.tickAt(t, received.Add(30*24*time.Hour))
		if got := onlyStep(b.alarms(t), events.StepTriage); len(got) != 0 {
			t.Errorf("triage alarms for a notice without a triage deadline: %+v", got)
		}
	})
}

func onlyStep(alarms []alarm, step string) []alarm {
	var out []alarm
	for _, a := range alarms {
		if a.Step == step {
			out = append(out, a)
		}
	}
	return out
}

func TestDeadlineAcrossTheClockChange(t *testing.T) {
	cases := []struct {
		name      string
		requested time.Time
		// due is the school's 08:30 start on the Monday after the change.
		due time.Time
	}{
		{
			name:      "clocks go back: requested in BST, due in GMT",
			requested: time.Date(2026, 10, 23, 21, 0, 0, 0, time.UTC), // 22:00 BST
			due:       time.Date(2026, 10, 26, 8, 30, 0, 0, time.UTC), // 08:30 GMT
		},
		{
			name:      "clocks go forward: requested in GMT, due in BST",
			requested: time.Date(2026, 3, 27, 22, 0, 0, 0, time.UTC), // 22:00 GMT
			due:       time.Date(2026, 3, 30, 7, 30, 0, 0, time.UTC), // 08:30 BST
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, tc.requested)
			n := newNotice("school-clock-change", chathamHill, tc.requested, tc.due)
			b.handle(t, n.requested(t), n.delivered(t, tc.requested))
			risk := tc.due.Add(-time.Hour)
			// An hour either side of each instant is where a wall-clock
			// mistake across the change would fire.
			b.ticks(t, tick{risk.Add(-time.Hour), 0}, tick{risk.Add(-time.Second), 0}, tick{risk, 1},
				tick{tc.due, 0}, tick{tc.due.Add(time.Second), 1})
		})
	}
}

func londonZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestTwoSchedulersRaiseEachAlarmOnce(t *testing.T) {
	b := setup(t, fridayNight)
	const notices = 40
	for i := range notices {
		n := newNotice(fmt.Sprintf("school-%d", i), chathamHill, fridayNight, mondayStart)
		b.handle(t, n.requested(t))
	}
	second := b.newEscalator(t, b.openPool(t))
	for _, at := range []time.Time{mondayRisk, mondayStart.Add(time.Second)} {
		b.clock.Set(at)
		var wg sync.WaitGroup
		counts := make([]int, 4)
		for i, esc := range []*sla.Escalator{b.esc, second, b.esc, second} {
			wg.Go(func() {
				n, err := esc.Tick(t.Context())
				if err != nil {
					t.Errorf("tick: %v", err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		if total := counts[0] + counts[1] + counts[2] + counts[3]; total != 2*notices {
			t.Errorf("at %v the schedulers raised %v alarms, %d in all, want %d", at, counts, total, 2*notices)
		}
	}
	perLevel := map[events.Type]int{}
	for _, a := range b.alarms(t) {
		perLevel[a.Type]++
	}
	want := map[events.Type]int{events.SLAAtRisk: 2 * notices, events.SLABreached: 2 * notices}
	if diff := cmp.Diff(want, perLevel); diff != "" {
		t.Errorf("alarms per type (-want +got):\n%s", diff)
	}
	var escalations int
	if err := b.pool.QueryRow(t.Context(), `SELECT count(*) FROM escalation.escalations`).Scan(&escalations); err != nil {
		t.Fatal(err)
	}
	if escalations != 4*notices {
		t.Errorf("%d escalations recorded, want %d", escalations, 4*notices)
	}
}

func TestInvalidEventIsPermanent(t *testing.T) {
	b := setup(t, fridayNight)
	n := newNotice("school-invalid", chathamHill, fridayNight, mondayStart)
	bad := mustEvent(t, events.NotificationDelivered, n.ID, n.IncidentID, fridayNight, map[string]any{
		"notification_id": n.ID, "incident_id": n.IncidentID})
	err := b.esc.Handle(t.Context(), bad)
	if !bus.IsPermanent(err) {
		t.Errorf("Handle(invalid delivered) = %v, want a permanent error", err)
	}
}

func TestOtherEventTypesAreIgnored(t *testing.T) {
	b := setup(t, fridayNight)
	n := newNotice("school-other", chathamHill, fridayNight, mondayStart)
	other := mustEvent(t, events.IncidentReported, n.IncidentID, n.IncidentID, fridayNight, map[string]string{"incident_id": n.IncidentID})
	if err := b.esc.Handle(t.Context(), other); err != nil {
		t.Errorf("Handle(incident.reported) = %v, want nil", err)
	}
	if got := b.steps(t, n.ID); len(got) != 0 {
		t.Errorf("steps made from incident.reported: %+v", got)
	}
}

// A notice whose delivery failed is put at risk at the next tick, whoever
// hears first (the request or the failure), and breached at its deadline
// as before; the failure alone, with no request known, makes no step.
func TestFailedDeliveryIsAtRiskAtOnce(t *testing.T) {
	failedAt := fridayNight.Add(10 * time.Minute)
	for _, order := range []string{"request first", "failure first"} {
		t.Run(order, func(t *testing.T) {
			b := setup(t, fridayNight)
			n := newNotice("school-failed-"+order, chathamHill, fridayNight, mondayStart)
			failed := mustEvent(t, events.NotificationFailed, n.ID, n.IncidentID, failedAt, events.NotificationFailedData{
				NotificationID: n.ID, IncidentID: n.IncidentID, Recipient: n.Recipient, FailedAt: failedAt,
				Reason: "inbox refused", Attempts: 5})
			if order == "request first" {
				b.handle(t, n.requested(t), failed)
			} else {
				b.handle(t, failed)
				if got := b.steps(t, n.ID); len(got) != 0 {
					t.Fatalf("steps made from notification.failed alone: %+v", got)
				}
				b.handle(t, n.requested(t))
			}
			b.handle(t, failed) // redelivered: changes nothing
			b.ticks(t, tick{failedAt.Add(-time.Microsecond), 0}, tick{failedAt, 1}, tick{mondayRisk, 1}, tick{mondayStart.Add(time.Microsecond), 2})
			want := []alarm{
				schoolAlarm(n, events.SLAAtRisk, events.StepDelivery, failedAt),
				schoolAlarm(n, events.SLAAtRisk, events.StepAcknowledgement, mondayRisk),
				schoolAlarm(n, events.SLABreached, events.StepAcknowledgement, mondayStart.Add(time.Microsecond)),
				schoolAlarm(n, events.SLABreached, events.StepDelivery, mondayStart.Add(time.Microsecond)),
			}
			// Alarms raised in one tick come in no particular order.
			got := b.alarms(t)
			slices.SortStableFunc(got, func(a, b alarm) int {
				if c := a.ObservedAt.Compare(b.ObservedAt); c != 0 {
					return c
				}
				return strings.Compare(a.Step, b.Step)
			})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("alarms (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManagerContact(t *testing.T) {
	book, err := contacts.Parse([]byte("recipient_kind,recipient_id,manager_name,manager_email\n" +
		"school,118234,Medway education safeguarding,education-safeguarding@medway.lantern.test\n"))
	if err != nil {
		t.Fatal(err)
	}
	unlisted := events.Recipient{Kind: events.KindSchool, ID: "999001", Name: "Example Primary School",
		Email: "dsl@example-primary.lantern.test"}
	cases := []struct {
		name      string
		book      *contacts.Book
		recipient events.Recipient
		want      escalation
	}{
		{name: "the contacts file's manager", book: book, recipient: chathamHill, want: escalation{
			Name: "Medway education safeguarding", Contact: "education-safeguarding@medway.lantern.test",
			Source: string(contacts.SourceContactsFile)}},
		{name: "no contacts file: the school's address in the reference data", recipient: chathamHill,
			want: escalation{Contact: chathamHill.Email, Source: string(contacts.SourceReferenceData)}},
		{name: "not in the reference data: the address on the notice", book: book, recipient: unlisted,
			want: escalation{Contact: unlisted.Email, Source: string(contacts.SourceNotice)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, fridayNight)
			b.book = tc.book
			n := newNotice("school-contact", tc.recipient, fridayNight, mondayStart)
			b.handle(t, n.requested(t), n.delivered(t, fridayNight))
			b.tickAt(t, mondayRisk)
			alarms := b.alarms(t)
			if len(alarms) != 1 || alarms[0].ManagerContact != tc.want.Contact {
				t.Errorf("alarms %+v, want one naming %q", alarms, tc.want.Contact)
			}
			tc.want.Level, tc.want.Step = sla.LevelAtRisk, events.StepAcknowledgement
			if diff := cmp.Diff([]escalation{tc.want}, b.escalations(t)); diff != "" {
				t.Errorf("escalations (-want +got):\n%s", diff)
			}
		})
	}
}

// escalation is a stored record of a manager being told.
type escalation struct {
	Step, Level, Name, Contact, Source string
}

func (b *bundle) escalations(t *testing.T) []escalation {
	t.Helper()
	rows, err := b.pool.Query(t.Context(), `SELECT step, level, coalesce(manager_name, ''), coalesce(manager_contact, ''),
		contact_source FROM escalation.escalations ORDER BY observed_at, step`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[escalation])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestANoticeReceivedAfterItsR1DeadlineIsBreachedOnceForTheMASHAndTheForce
// is a PPN posted twelve days after the incident: R1 (police to MASH) was
// missed before Lantern had it. The MASH's manager and the force's contact
// hear of it once, as a receipt breach, even though Lantern delivers the
// notice at once; the delivery step raises nothing of its own.
func TestANoticeReceivedAfterItsR1DeadlineIsBreachedOnceForTheMASHAndTheForce(t *testing.T) {
	received := fridayNight
	incident := received.Add(-12 * 24 * time.Hour)
	b := setup(t, received)
	book, err := contacts.Parse([]byte("recipient_kind,recipient_id,manager_name,manager_email\n" +
		"police,KENT,Kent Police PPN desk,ppn-desk@kent.police.lantern.test\n"))
	if err != nil {
		t.Fatal(err)
	}
	b.book = book
	late := newNotice("mash-late", medwayMASH, received.Add(2*time.Second), incident.Add(24*time.Hour))
	late.ReceivedAt, late.ForceCode, late.TriageDueAt = received, "KENT", received.Add(4*time.Hour)
	onTime := newNotice("mash-on-time", medwayMASH, received.Add(2*time.Second), received.Add(time.Hour))
	onTime.ReceivedAt, onTime.ForceCode = received, "KENT"
	b.handle(t, late.requested(t), late.delivered(t, received.Add(3*time.Second)),
		onTime.requested(t), onTime.delivered(t, received.Add(3*time.Second)))

	tick := received.Add(10 * time.Second)
	if got := b.tickAt(t, tick); got != 1 {
		t.Errorf("the first tick raised %d alarms, want the one receipt breach", got)
	}
	for _, later := range []time.Duration{time.Minute, time.Hour} {
		if got := b.tickAt(t, tick.Add(later)); got != 0 {
			t.Errorf("a tick %s later raised %d more alarms", later, got)
		}
	}
	subject, _ := events.Subject(events.SLABreached, events.KindMASH)
	want := []alarm{{Type: events.SLABreached, Subject: subject, NotificationID: late.ID, Step: events.StepReceipt,
		RuleID: "R1", DueAt: late.DueAt, ObservedAt: tick, ManagerContact: medwayMASH.Email,
		PoliceContact: "ppn-desk@kent.police.lantern.test"}}
	if diff := cmp.Diff(want, b.alarms(t)); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}
}

// Package projectiontest builds the events of realistic incidents for
// tests: a notice reported, recipients requested, delivered, acknowledged,
// triaged, failed and breached, each at a time the test chooses.
package projectiontest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// Incident collects the events of one incident.
type Incident struct {
	t      testing.TB
	ID     string
	events []Published
	notes  map[string]events.NotificationRequestedData
	// notice is the reported notice, sent in full (profile A) with each
	// request, so that every event built here passes its schema.
	notice json.RawMessage
	// la is the local authority the incident is reported to; empty means
	// Medway's, E06000035.
	la string
}

// In sets the local authority the incident is reported to.
func (in *Incident) In(la string) *Incident {
	in.la = la
	return in
}

// Published is an event and the NATS subject it travels on.
type Published struct {
	Event   cloudevent.Event
	Subject string
}

// NewIncident starts an incident with id.
func NewIncident(t testing.TB, id string) *Incident {
	return &Incident{t: t, ID: id, notes: map[string]events.NotificationRequestedData{}}
}

// Events returns the events built so far, in the order they were added.
func (in *Incident) Events() []Published { return in.events }

func (in *Incident) add(id string, typ events.Type, source, subject, actor string, at time.Time, kind events.RecipientKind, data any) {
	in.t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: id, Type: typ, Source: source, Subject: subject, IncidentID: in.ID,
		Actor: actor, Time: at, Data: data})
	if err != nil {
		in.t.Fatalf("building %s: %v", typ, err)
	}
	natsSubject, err := events.Subject(typ, kind)
	if err != nil {
		in.t.Fatalf("subject of %s: %v", typ, err)
	}
	in.events = append(in.events, Published{Event: e, Subject: natsSubject})
}

// Child is a child on the notice.
type Child struct {
	ID      string
	Present bool
	Voice   bool
	// NHSNumber, if set, is on the child's entry.
	NHSNumber string
}

// Reported adds incident.reported for a notice received at at, with the
// given children and, if pregnant, a pregnant victim. The names and dates
// are invented and obviously so.
func (in *Incident) Reported(at time.Time, dash string, pregnant bool, children ...Child) *Incident {
	la := in.la
	if la == "" {
		la = "E06000035"
	}
	notice := ppn.Incident{ForceCode: "KENT", PoliceReference: "KNT-TEST-" + in.ID[len(in.ID)-4:],
		OccurredAt: at.Add(-30 * time.Minute), ReportedAt: at.Add(-10 * time.Minute), LocalAuthorityCode: la,
		DASH: ppn.DASH{Level: dash}, Adults: []ppn.Adult{{PersonID: "P-1", Role: ppn.RoleVictim, Name: "Test Victim",
			Pregnant: pregnant}}, Children: []ppn.Child{}}
	for _, c := range children {
		voice := ""
		if c.Voice {
			voice = "said something"
		}
		notice.Children = append(notice.Children, ppn.Child{PersonID: c.ID, Name: "Test Child " + c.ID,
			DateOfBirth: "2019-05-01", Present: c.Present, VoiceOfChild: voice, NHSNumber: c.NHSNumber})
	}
	raw, err := json.Marshal(notice)
	if err != nil {
		in.t.Fatal(err)
	}
	in.notice = raw
	data := events.IncidentReportedData{IncidentID: in.ID, ReceivedAt: at, Incident: notice}
	in.add(cloudevent.DeriveID("reported", in.ID), events.IncidentReported, events.SourceIntake, in.ID, "police:KENT", at, "", data)
	return in
}

// Request is one notification.requested.
type Request struct {
	NotificationID string
	RuleID         string
	Kind           events.RecipientKind
	RecipientID    string
	RecipientName  string
	ChildIDs       []string
	At             time.Time
	Due            time.Time
}

// Requested adds notification.requested.
func (in *Incident) Requested(r Request) *Incident {
	data := events.NotificationRequestedData{NotificationID: r.NotificationID, IncidentID: in.ID, RuleID: r.RuleID,
		PolicyVersion: "test-1", Recipient: events.Recipient{Kind: r.Kind, ID: r.RecipientID, Name: r.RecipientName},
		ChildIDs: r.ChildIDs, RequestedAt: r.At, DueAt: r.Due, Calendar: "clock", Profile: "A",
		LawfulBasis: "test", Notice: in.notice}
	if data.Notice == nil {
		data.Notice = json.RawMessage(`{}`)
	}
	if data.ChildIDs == nil {
		data.ChildIDs = []string{}
	}
	in.notes[r.NotificationID] = data
	in.add(cloudevent.DeriveID("requested", r.NotificationID), events.NotificationRequested, events.SourceRouter,
		r.NotificationID, "service:router", r.At, r.Kind, data)
	return in
}

func (in *Incident) note(id string) events.NotificationRequestedData {
	in.t.Helper()
	n, ok := in.notes[id]
	if !ok {
		in.t.Fatalf("notification %s was not requested", id)
	}
	return n
}

// Delivered adds notification.delivered at at.
func (in *Incident) Delivered(id string, at time.Time) *Incident {
	return in.DeliveredBy(id, at)
}

// DeliveredBy adds notification.delivered at at, carried besides the inbox
// by the channels given.
func (in *Incident) DeliveredBy(id string, at time.Time, channels ...events.ChannelReceipt) *Incident {
	n := in.note(id)
	data := events.NotificationDeliveredData{NotificationID: id, IncidentID: in.ID, Recipient: n.Recipient,
		DeliveredAt: at, Channel: "inbox", DueAt: n.DueAt, Channels: channels}
	in.add(cloudevent.DeriveID("delivered", id), events.NotificationDelivered, events.SourceDelivery, id,
		"service:delivery", at, n.Recipient.Kind, data)
	return in
}

// Acknowledged adds notification.acknowledged by user at at.
func (in *Incident) Acknowledged(id, user string, at time.Time) *Incident {
	n := in.note(id)
	data := events.NotificationAcknowledgedData{NotificationID: id, IncidentID: in.ID, Recipient: n.Recipient,
		AcknowledgedAt: at, AcknowledgedBy: events.Person{UserID: user, Role: "key_adult"}}
	in.add(cloudevent.DeriveID("acknowledged", id), events.NotificationAcknowledged, events.SourceWorkspace, id,
		"user:"+user, at, n.Recipient.Kind, data)
	return in
}

// Failed adds notification.failed at at with reason.
func (in *Incident) Failed(id, reason string, at time.Time) *Incident {
	n := in.note(id)
	data := events.NotificationFailedData{NotificationID: id, IncidentID: in.ID, Recipient: n.Recipient,
		FailedAt: at, Reason: reason, Attempts: 8}
	in.add(cloudevent.DeriveID("failed", id), events.NotificationFailed, events.SourceDelivery, id,
		"service:delivery", at, n.Recipient.Kind, data)
	return in
}

// Triaged adds triage.decided on the MASH notification id at at.
func (in *Incident) Triaged(id, rag, defaultRAG, reason, user string, at time.Time) *Incident {
	data := events.TriageDecidedData{IncidentID: in.ID, NotificationID: id, RAG: rag, DefaultRAG: defaultRAG,
		RAGReason: reason, Decision: events.DecisionSection17, DecidedAt: at,
		DecidedBy: events.Person{UserID: user, Role: "mash_worker"}}
	in.add(cloudevent.DeriveID("triaged", id, at.String()), events.TriageDecided, events.SourceWorkspace, in.ID,
		"user:"+user, at, "", data)
	return in
}

// Breached adds sla.breached for step of notification id, observed at at.
func (in *Incident) Breached(id, step string, at time.Time) *Incident {
	return in.alarm("breached", events.SLABreached, id, step, at)
}

// AtRisk adds sla.at_risk for step of notification id, observed at at.
func (in *Incident) AtRisk(id, step string, at time.Time) *Incident {
	return in.alarm("at_risk", events.SLAAtRisk, id, step, at)
}

// alarm adds the escalation service's alarm of type t, whose ids are
// derived from name, for step of notification id.
func (in *Incident) alarm(name string, t events.Type, id, step string, at time.Time) *Incident {
	n := in.note(id)
	data := events.SLAData{NotificationID: id, IncidentID: in.ID, Recipient: n.Recipient, RuleID: n.RuleID,
		Step: step, DueAt: n.DueAt, ObservedAt: at}
	in.add(cloudevent.DeriveID(name, id, step), t, events.SourceEscalation, id,
		"service:escalation", at, n.Recipient.Kind, data)
	return in
}

// IncidentID returns a valid incident id numbered n.
func IncidentID(n int) string { return fmt.Sprintf("0193a000-0000-7000-8000-%012d", n) }

// NotificationID returns a valid notification id numbered n within
// incident number incident.
func NotificationID(incident, n int) string {
	return fmt.Sprintf("0193b000-%04d-5000-8000-%012d", n, incident)
}

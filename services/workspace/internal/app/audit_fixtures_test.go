package app_test

import (
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// auditStart is when the first audit fixture incident reached Lantern: a
// Tuesday morning in November 2026, on GMT.
var auditStart = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

// schoolOutcome is what became of an audit fixture's school notice.
type schoolOutcome int

const (
	acknowledgedInTime schoolOutcome = iota
	acknowledgedLate
	neverAcknowledged
)

// auditIncidents are four incidents whose figures are worked out by hand.
// Each sends the Medway MASH a notice due in an hour, delivered in a
// minute, and the school a notice due in ten hours. In November 2026: A's
// school acknowledges in time and the MASH triages it; B's school
// acknowledges two hours late; C's never does, and the breach is recorded.
// In October 2026, D's school acknowledges in time. So November has 3
// incidents and 6 notices, 4 of them on time out of 6 whose outcome is
// known (66.7%), and 2 breaches (B and C); October has 1 incident and 2
// notices, both on time.
func auditIncidents(t *testing.T) (a, b, c, d *pt.Incident) {
	t.Helper()
	a = auditIncident(t, 1, auditStart, acknowledgedInTime, true)
	b = auditIncident(t, 2, auditStart.Add(24*time.Hour), acknowledgedLate, false)
	c = auditIncident(t, 3, auditStart.Add(48*time.Hour), neverAcknowledged, false)
	d = auditIncident(t, 4, time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC), acknowledgedInTime, false)
	return a, b, c, d
}

// novemberTotals are the figures auditIncidents give November 2026.
var novemberTotals = struct{ Incidents, Notifications, OnTime, Decided, Breaches int }{3, 6, 4, 6, 2}

func auditIncident(t *testing.T, n int, at time.Time, school schoolOutcome, triaged bool) *pt.Incident {
	t.Helper()
	in := pt.NewIncident(t, pt.IncidentID(n)).Reported(at, "high", false, pt.Child{ID: "C-1", Present: true, Voice: true})
	mash, note := pt.NotificationID(n, 1), pt.NotificationID(n, 2)
	in.Requested(pt.Request{NotificationID: mash, RuleID: "R1", Kind: events.KindMASH, RecipientID: "E06000035",
		RecipientName: "Medway Council MASH", ChildIDs: []string{"C-1"}, At: at.Add(5 * time.Second), Due: at.Add(time.Hour)})
	in.Delivered(mash, at.Add(time.Minute))
	due := at.Add(10 * time.Hour)
	in.Requested(pt.Request{NotificationID: note, RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
		RecipientName: "Chatham Hill Primary School", ChildIDs: []string{"C-1"}, At: at.Add(6 * time.Second), Due: due})
	in.Delivered(note, at.Add(2*time.Minute))
	switch school {
	case acknowledgedInTime:
		in.Acknowledged(note, "key-adult-1", at.Add(3*time.Hour))
	case acknowledgedLate:
		in.Acknowledged(note, "key-adult-1", due.Add(2*time.Hour))
	case neverAcknowledged:
		in.Breached(note, events.StepAcknowledgement, due.Add(time.Minute))
	}
	if triaged {
		in.Triaged(mash, events.RAGRed, events.RAGRed, "", "mash-worker-1", at.Add(2*time.Hour))
	}
	return in
}

// recordAudit appends incidents' events to the ledger and its audit
// projections, as the ledger service does when it consumes them.
func (b *bundle) recordAudit(incidents ...*pt.Incident) {
	b.t.Helper()
	pt.Record(b.t, b.pool, pt.All(incidents)...)
}

// recordArea appends an area's incident and the requests for its notices
// to the ledger, with the whole police notice in the incident's event,
// names and all, as the intake sends it.
func (b *bundle) recordArea(a area, notices map[events.RecipientKind]events.NotificationRequestedData) {
	b.t.Helper()
	reported := b.published(cloudevent.Spec{ID: cloudevent.DeriveID(a.incidentID, "reported"), Type: events.IncidentReported,
		Source: events.SourceIntake, Subject: a.incidentID, IncidentID: a.incidentID, Actor: "police:KENT",
		Time: a.incident.ReportedAt, Data: events.IncidentReportedData{IncidentID: a.incidentID,
			ReceivedAt: a.incident.ReportedAt, Incident: a.incident}}, "")
	out := []pt.Published{reported}
	for _, n := range notices {
		out = append(out, b.published(cloudevent.Spec{ID: cloudevent.DeriveID(n.NotificationID, "requested"),
			Type: events.NotificationRequested, Source: events.SourceRouter, Subject: n.NotificationID,
			IncidentID: n.IncidentID, Actor: "service:router", Time: n.RequestedAt, Data: n}, n.Recipient.Kind))
	}
	pt.Record(b.t, b.pool, out...)
}

func (b *bundle) published(spec cloudevent.Spec, kind events.RecipientKind) pt.Published {
	b.t.Helper()
	e, err := cloudevent.New(spec)
	if err != nil {
		b.t.Fatalf("building event: %v", err)
	}
	subject, err := events.Subject(spec.Type, kind)
	if err != nil {
		b.t.Fatalf("subject: %v", err)
	}
	return pt.Published{Event: e, Subject: subject}
}

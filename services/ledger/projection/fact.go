package projection

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// Fact is what the projections need from one event: identifiers, times
// and routing facts, with every piece of personal data left behind. Which
// fields are set depends on Type.
type Fact struct {
	EventID    string
	Type       events.Type
	IncidentID string
	Time       time.Time
	Actor      string

	NotificationID string
	Recipient      Recipient
	RuleID         string
	ChildIDs       []string
	DueAt          *time.Time
	// At is the event's own moment: received, requested, delivered,
	// acknowledged, failed, decided or observed.
	At time.Time
	// By is the user who acknowledged or decided.
	By string

	PolicyVersion, Calendar, Profile string
	Repeat                           bool
	Step                             string // at_risk and breached
	Reason                           string // failed
	// Channels are the outbound channels that accepted a delivered
	// notice.
	Channels                  []events.ChannelReceipt
	RAG, DefaultRAG, Decision string // triage
	RAGReasonGiven            bool
	Incident                  *Incident // reported
}

// Recipient is the organisation a notification is for.
type Recipient struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// FactOf reduces e to a Fact. It returns ok false for event types that no
// projection uses, such as access records, and an error for an event of a
// known type whose data cannot be read; callers skip both the same way in
// every place the projections run.
func FactOf(e cloudevent.Event) (f Fact, ok bool, err error) {
	f = Fact{EventID: e.ID(), Type: events.Type(e.Type()), IncidentID: cloudevent.IncidentID(e),
		Time: norm(e.Time()), Actor: cloudevent.Actor(e)}
	read, known := readers[f.Type]
	if !known {
		return Fact{}, false, nil
	}
	if err := read(&f, e.Data(), json.Unmarshal); err != nil {
		return Fact{}, false, fmt.Errorf("reading %s event %s: %w", f.Type, f.EventID, err)
	}
	return f, true, nil
}

// norm is the precision and zone every projected time has: PostgreSQL
// keeps microseconds, so times are cut to that before anything is compared
// or hashed.
func norm(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

func normPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	n := norm(*t)
	return &n
}

// decoder decodes one event's data; FactOf uses encoding/json, the bulk
// path a faster decoder set to read the same (decode.go).
type decoder func(data []byte, v any) error

var readers = map[events.Type]func(*Fact, []byte, decoder) error{
	events.IncidentReported:         readReported,
	events.NotificationRequested:    readRequested,
	events.NotificationDelivered:    readDelivered,
	events.NotificationAcknowledged: readAcknowledged,
	events.NotificationFailed:       readFailed,
	events.TriageDecided:            readTriage,
	events.SLAAtRisk:                readSLA,
	events.SLABreached:              readSLA,
}

func readReported(f *Fact, data []byte, unmarshal decoder) error {
	var d events.IncidentReportedData
	if err := unmarshal(data, &d); err != nil {
		return err
	}
	f.At = norm(d.ReceivedAt)
	f.Incident = summarise(f.IncidentID, d)
	return nil
}

// summarise keeps the counts and flags inspectors ask about (domain.md
// section 1.1, rows 1, 2 and 14) and drops everything else in the notice.
func summarise(id string, d events.IncidentReportedData) *Incident {
	in := d.Incident
	s := &Incident{IncidentID: id, ReceivedAt: norm(d.ReceivedAt), OccurredAt: norm(in.OccurredAt),
		ForceCode: in.ForceCode, LocalAuthority: in.LocalAuthorityCode, DASHLevel: in.DASH.Level,
		SamePartiesIncidents12m: in.IncidentsSameParties12m, ChildIDs: []string{}}
	for _, c := range in.Children {
		s.ChildIDs = append(s.ChildIDs, c.PersonID)
		s.ChildrenPresent += boolInt(c.Present)
		s.ChildrenWithVoice += boolInt(c.VoiceOfChild != "")
	}
	for _, a := range in.Adults {
		s.UnbornVictim = s.UnbornVictim || (a.Role == ppn.RoleVictim && a.Pregnant)
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func readRequested(f *Fact, data []byte, unmarshal decoder) error {
	var d events.NotificationRequestedData
	if err := unmarshal(data, &d); err != nil {
		return err
	}
	f.NotificationID, f.RuleID, f.At = d.NotificationID, d.RuleID, norm(d.RequestedAt)
	f.Recipient = recipientOf(d.Recipient)
	f.ChildIDs, f.DueAt = nonNil(d.ChildIDs), normPtr(&d.DueAt)
	f.PolicyVersion, f.Calendar, f.Profile, f.Repeat = d.PolicyVersion, d.Calendar, string(d.Profile), d.Repeat
	return nil
}

func readDelivered(f *Fact, data []byte, unmarshal decoder) error {
	var d events.NotificationDeliveredData
	if err := unmarshal(data, &d); err != nil {
		return err
	}
	f.NotificationID, f.Recipient, f.At, f.DueAt = d.NotificationID, recipientOf(d.Recipient), norm(d.DeliveredAt), normPtr(&d.DueAt)
	f.Channels = d.Channels
	return nil
}

func readAcknowledged(f *Fact, data []byte, unmarshal decoder) error {
	var d events.NotificationAcknowledgedData
	if err := unmarshal(data, &d); err != nil {
		return err
	}
	f.NotificationID, f.Recipient, f.At, f.By = d.NotificationID, recipientOf(d.Recipient), norm(d.AcknowledgedAt), d.AcknowledgedBy.UserID
	return nil
}

func readFailed(f *Fact, data []byte, unmarshal decoder) error {
	var d events.NotificationFailedData
	if err := unmarshal(data, &d); err != nil {
		return err
	}
	f.NotificationID, f.Recipient, f.At, f.Reason = d.NotificationID, recipientOf(d.Recipient), norm(d.FailedAt), d.Reason
	return nil
}

func readTriage(f *Fact, data []byte, unmarshal decoder) error {
	var d events.TriageDecidedData
	if err := unmarshal(data, &d); err != nil {
		return err
	}
	f.NotificationID, f.At, f.By = d.NotificationID, norm(d.DecidedAt), d.DecidedBy.UserID
	// The rationale is free text a worker wrote; only whether one was
	// given is kept (domain.md 1.1 row 4: decisions recorded with reasons).
	f.RAG, f.DefaultRAG, f.Decision, f.RAGReasonGiven = d.RAG, d.DefaultRAG, d.Decision, d.RAGReason != ""
	return nil
}

func readSLA(f *Fact, data []byte, unmarshal decoder) error {
	var d events.SLAData
	if err := unmarshal(data, &d); err != nil {
		return err
	}
	f.NotificationID, f.Recipient, f.RuleID, f.Step = d.NotificationID, recipientOf(d.Recipient), d.RuleID, d.Step
	f.DueAt, f.At = normPtr(&d.DueAt), norm(d.ObservedAt)
	return nil
}

func recipientOf(r events.Recipient) Recipient {
	return Recipient{Kind: string(r.Kind), ID: r.ID, Name: r.Name}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

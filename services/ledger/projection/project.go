package projection

import (
	"cmp"
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// Set holds the rows of every projection, each slice in its canonical
// order (see Sort).
type Set struct {
	Incidents     []Incident
	Steps         []Step
	Notifications []Notification
	Inbox         []InboxItem
	Triage        []Triage
	Breaches      []Breach
	Channels      []Channel
}

// Channel is one outbound channel's acceptance of a delivered notice, as
// notification.delivered lists them: which channel carried the notice to
// its recipient and when.
type Channel struct {
	IncidentID     string
	NotificationID string
	// Channel is email, notify_email, notify_sms or webhook.
	Channel    string
	AcceptedAt time.Time
	// ProviderID is the provider's id for the message (a Message-ID,
	// Notify's id, the webhook id).
	ProviderID string
}

// Incident is what the report counts about one incident.
type Incident struct {
	IncidentID              string
	ReceivedAt              time.Time
	OccurredAt              time.Time
	ForceCode               string
	LocalAuthority          string
	DASHLevel               string
	ChildIDs                []string
	ChildrenPresent         int
	ChildrenWithVoice       int
	UnbornVictim            bool
	SamePartiesIncidents12m int
}

// Step is one event on an incident's timeline.
type Step struct {
	IncidentID string
	EventID    string
	Type       string
	Time       time.Time
	// At is the moment the event itself reports (delivered_at,
	// acknowledged_at…), which is what a deadline is measured by.
	At             time.Time
	Actor          string
	NotificationID string
	RecipientKind  string
	RecipientID    string
	RuleID         string
	ChildIDs       []string
	DueAt          *time.Time
	SLAStep        string
}

// Notification is one recipient's notice and the state of its deadline.
type Notification struct {
	NotificationID string
	IncidentID     string
	RuleID         string
	PolicyVersion  string
	RecipientKind  string
	RecipientID    string
	RecipientName  string
	ChildIDs       []string
	Calendar       string
	Profile        string
	Repeat         bool
	// RequestedAt is nil only if the request itself is missing from the
	// record, which the report shows rather than hides.
	RequestedAt    *time.Time
	DueAt          *time.Time
	WatchedStep    string
	DeliveredAt    *time.Time
	AcknowledgedAt *time.Time
	AcknowledgedBy string
	FailedAt       *time.Time
	FailureReason  string
	State          string
	Outcome        string
}

// Notification states: how far the notice has got.
const (
	StateRequested    = "requested"
	StateDelivered    = "delivered"
	StateAcknowledged = "acknowledged"
	StateFailed       = "failed"
)

// Deadline outcomes. They depend on the events alone, never on the time
// of asking: a deadline nobody has met yet is open until a breach is
// recorded, however late it is (the report compares open deadlines with
// the time it is run).
const (
	OutcomeMet      = "met"
	OutcomeLate     = "late"
	OutcomeBreached = "breached"
	OutcomeFailed   = "failed"
	OutcomeOpen     = "open"
)

// InboxItem is one notice that reached a recipient's inbox.
type InboxItem struct {
	RecipientKind  string
	RecipientID    string
	NotificationID string
	IncidentID     string
	RuleID         string
	DeliveredAt    time.Time
	AcknowledgedAt *time.Time
	AcknowledgedBy string
}

// Triage is one MASH decision.
type Triage struct {
	EventID        string
	IncidentID     string
	NotificationID string
	RAG            string
	DefaultRAG     string
	Decision       string
	Overridden     bool
	ReasonGiven    bool
	DecidedAt      time.Time
	DecidedBy      string
}

// Breach is one deadline breach the escalation service recorded.
type Breach struct {
	EventID        string
	NotificationID string
	IncidentID     string
	RuleID         string
	RecipientKind  string
	Step           string
	DueAt          *time.Time
	ObservedAt     time.Time
}

// WatchedStep is the step a rule's deadline is met by. Operation
// Encompass (R8) runs from the incident to the school's key adult
// acknowledging the notice before the next school day (domain.md 8.3);
// every other rule's deadline is for the notice reaching the recipient.
func WatchedStep(ruleID string) string {
	if ruleID == "R8" {
		return events.StepAcknowledgement
	}
	return events.StepDelivery
}

// Project derives every projection from facts, which may come in any
// order, repeat, and span many incidents.
func Project(facts []Fact) Set {
	var s Set
	for _, group := range byIncident(facts) {
		s.add(projectIncident(group))
	}
	s.Sort()
	return s
}

// byIncident drops repeated event ids (the first kept) and groups the rest
// by incident, each group in event time order.
func byIncident(facts []Fact) [][]Fact {
	seen := map[string]bool{}
	groups := map[string][]Fact{}
	for _, f := range facts {
		if seen[f.EventID] {
			continue
		}
		seen[f.EventID] = true
		groups[f.IncidentID] = append(groups[f.IncidentID], f)
	}
	out := make([][]Fact, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g, func(a, b Fact) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.EventID, b.EventID))
		})
		out = append(out, g)
	}
	return out
}

func (s *Set) add(o Set) {
	s.Incidents = append(s.Incidents, o.Incidents...)
	s.Steps = append(s.Steps, o.Steps...)
	s.Notifications = append(s.Notifications, o.Notifications...)
	s.Inbox = append(s.Inbox, o.Inbox...)
	s.Triage = append(s.Triage, o.Triage...)
	s.Breaches = append(s.Breaches, o.Breaches...)
	s.Channels = append(s.Channels, o.Channels...)
}

// projectIncident derives the rows of one incident from its facts, in
// event time order.
func projectIncident(facts []Fact) Set {
	var s Set
	notes := map[string]*Notification{}
	carried := map[string]Fact{}
	for _, f := range facts {
		s.Steps = append(s.Steps, stepOf(f))
		switch f.Type {
		case events.IncidentReported:
			// An incident is reported once; a second report under
			// another event id would be a producer's bug, and the
			// first stands.
			if len(s.Incidents) == 0 {
				s.Incidents = append(s.Incidents, *f.Incident)
			}
		case events.TriageDecided:
			s.Triage = append(s.Triage, triageOf(f))
		case events.SLABreached:
			s.Breaches = append(s.Breaches, breachOf(f))
		case events.NotificationDelivered:
			// The first delivery counts, as for delivered_at.
			if first, ok := carried[f.NotificationID]; !ok || f.At.Before(first.At) {
				carried[f.NotificationID] = f
			}
		}
		if f.NotificationID != "" && f.Type != events.TriageDecided {
			applyNotification(notes, f)
		}
	}
	for _, n := range notes {
		n.State, n.Outcome = stateOf(n), outcomeOf(n, s.Breaches)
		s.Notifications = append(s.Notifications, *n)
		if n.DeliveredAt != nil {
			s.Inbox = append(s.Inbox, inboxOf(n))
		}
	}
	for _, f := range carried {
		for _, c := range f.Channels {
			s.Channels = append(s.Channels, Channel{IncidentID: f.IncidentID, NotificationID: f.NotificationID,
				Channel: c.Channel, AcceptedAt: norm(c.AcceptedAt), ProviderID: c.ProviderID})
		}
	}
	return s
}

func stepOf(f Fact) Step {
	return Step{IncidentID: f.IncidentID, EventID: f.EventID, Type: string(f.Type), Time: f.Time, At: f.At, Actor: f.Actor,
		NotificationID: f.NotificationID, RecipientKind: f.Recipient.Kind, RecipientID: f.Recipient.ID,
		RuleID: f.RuleID, ChildIDs: nonNil(f.ChildIDs), DueAt: f.DueAt, SLAStep: f.Step}
}

func triageOf(f Fact) Triage {
	return Triage{EventID: f.EventID, IncidentID: f.IncidentID, NotificationID: f.NotificationID, RAG: f.RAG,
		DefaultRAG: f.DefaultRAG, Decision: f.Decision, Overridden: f.RAG != f.DefaultRAG,
		ReasonGiven: f.RAGReasonGiven, DecidedAt: f.At, DecidedBy: f.By}
}

func breachOf(f Fact) Breach {
	return Breach{EventID: f.EventID, NotificationID: f.NotificationID, IncidentID: f.IncidentID, RuleID: f.RuleID,
		RecipientKind: f.Recipient.Kind, Step: f.Step, DueAt: f.DueAt, ObservedAt: f.At}
}

// applyNotification folds one notification event into its row. The first
// delivery, acknowledgement and failure count; later repeats do not move
// them.
func applyNotification(notes map[string]*Notification, f Fact) {
	n, ok := notes[f.NotificationID]
	if !ok {
		n = &Notification{NotificationID: f.NotificationID, IncidentID: f.IncidentID, ChildIDs: []string{}}
		notes[f.NotificationID] = n
	}
	n.RecipientKind, n.RecipientID = cmp.Or(n.RecipientKind, f.Recipient.Kind), cmp.Or(n.RecipientID, f.Recipient.ID)
	n.RecipientName = cmp.Or(n.RecipientName, f.Recipient.Name)
	n.RuleID = cmp.Or(n.RuleID, f.RuleID)
	if n.DueAt == nil {
		n.DueAt = f.DueAt
	}
	switch f.Type {
	case events.NotificationRequested:
		applyRequest(n, f)
	case events.NotificationDelivered:
		n.DeliveredAt = earliest(n.DeliveredAt, f.At)
	case events.NotificationAcknowledged:
		if n.AcknowledgedAt == nil {
			n.AcknowledgedBy = f.By
		}
		n.AcknowledgedAt = earliest(n.AcknowledgedAt, f.At)
	case events.NotificationFailed:
		if n.FailedAt == nil {
			n.FailureReason = f.Reason
		}
		n.FailedAt = earliest(n.FailedAt, f.At)
	}
	n.WatchedStep = WatchedStep(n.RuleID)
}

// applyRequest takes the routing decision; its deadline and rule win over
// any copied onto later events.
func applyRequest(n *Notification, f Fact) {
	at := f.At
	n.RequestedAt, n.DueAt, n.RuleID = &at, f.DueAt, f.RuleID
	n.PolicyVersion, n.Calendar, n.Profile, n.Repeat = f.PolicyVersion, f.Calendar, f.Profile, f.Repeat
	n.ChildIDs = nonNil(f.ChildIDs)
}

func earliest(cur *time.Time, t time.Time) *time.Time {
	if cur == nil || t.Before(*cur) {
		return &t
	}
	return cur
}

func stateOf(n *Notification) string {
	switch {
	case n.AcknowledgedAt != nil:
		return StateAcknowledged
	case n.DeliveredAt != nil:
		return StateDelivered
	case n.FailedAt != nil:
		return StateFailed
	}
	return StateRequested
}

// DoneAt is when the notification's watched step happened, or nil.
func (n Notification) DoneAt() *time.Time {
	if n.WatchedStep == events.StepAcknowledgement {
		return n.AcknowledgedAt
	}
	return n.DeliveredAt
}

func outcomeOf(n *Notification, breaches []Breach) string {
	done := n.DoneAt()
	switch {
	case done != nil && (n.DueAt == nil || !done.After(*n.DueAt)):
		return OutcomeMet
	case done != nil:
		return OutcomeLate
	case n.FailedAt != nil:
		return OutcomeFailed
	}
	for _, b := range breaches {
		if b.NotificationID == n.NotificationID && b.Step == n.WatchedStep {
			return OutcomeBreached
		}
	}
	return OutcomeOpen
}

func inboxOf(n *Notification) InboxItem {
	return InboxItem{RecipientKind: n.RecipientKind, RecipientID: n.RecipientID, NotificationID: n.NotificationID,
		IncidentID: n.IncidentID, RuleID: n.RuleID, DeliveredAt: *n.DeliveredAt, AcknowledgedAt: n.AcknowledgedAt,
		AcknowledgedBy: n.AcknowledgedBy}
}

// Sort puts every slice in canonical order: the order the digest hashes
// and the database returns them in.
func (s *Set) Sort() {
	slices.SortFunc(s.Incidents, func(a, b Incident) int { return cmp.Compare(a.IncidentID, b.IncidentID) })
	slices.SortFunc(s.Steps, func(a, b Step) int {
		return cmp.Or(cmp.Compare(a.IncidentID, b.IncidentID), a.Time.Compare(b.Time), cmp.Compare(a.EventID, b.EventID))
	})
	slices.SortFunc(s.Notifications, func(a, b Notification) int {
		return cmp.Or(cmp.Compare(a.NotificationID, b.NotificationID), cmp.Compare(a.IncidentID, b.IncidentID))
	})
	slices.SortFunc(s.Inbox, func(a, b InboxItem) int {
		return cmp.Or(cmp.Compare(a.RecipientKind, b.RecipientKind), cmp.Compare(a.RecipientID, b.RecipientID),
			cmp.Compare(a.NotificationID, b.NotificationID), cmp.Compare(a.IncidentID, b.IncidentID))
	})
	slices.SortFunc(s.Triage, func(a, b Triage) int { return cmp.Compare(a.EventID, b.EventID) })
	slices.SortFunc(s.Breaches, func(a, b Breach) int { return cmp.Compare(a.EventID, b.EventID) })
	slices.SortFunc(s.Channels, func(a, b Channel) int {
		return cmp.Or(cmp.Compare(a.NotificationID, b.NotificationID), cmp.Compare(a.Channel, b.Channel),
			cmp.Compare(a.ProviderID, b.ProviderID), cmp.Compare(a.IncidentID, b.IncidentID))
	})
}

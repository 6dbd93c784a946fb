package projection

import (
	"cmp"
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// Timeline is an incident's history arranged for an auditor: every step in
// time order, and each notification grouped under the children it
// concerns, with its deadline and whether it was met.
type Timeline struct {
	IncidentID string         `json:"incident_id"`
	ReportedAt *time.Time     `json:"reported_at,omitempty"`
	Steps      []TimelineStep `json:"steps"`
	// Children holds, for each child of the notice (by the police's
	// person id) or named by a notification, the notifications about them.
	Children []ChildTimeline `json:"children"`
	// Household holds the notifications that name no child, such as
	// those about an unborn child or the adult victim.
	Household []NotificationTimeline `json:"household"`
}

// ChildTimeline is the notifications about one child.
type ChildTimeline struct {
	ChildID       string                 `json:"child_id"`
	Notifications []NotificationTimeline `json:"notifications"`
}

// NotificationTimeline is one notification's deadline and steps.
type NotificationTimeline struct {
	NotificationID string     `json:"notification_id"`
	RuleID         string     `json:"rule_id"`
	Recipient      Recipient  `json:"recipient"`
	DueAt          *time.Time `json:"due_at"`
	WatchedStep    string     `json:"watched_step"`
	Outcome        string     `json:"outcome"`
	Delivered      *Milestone `json:"delivered,omitempty"`
	Acknowledged   *Milestone `json:"acknowledged,omitempty"`
	FailedAt       *time.Time `json:"failed_at,omitempty"`
	// Channels are the outbound channels that carried the notice and
	// when each accepted it; empty when only the inbox did.
	Channels []ChannelMark  `json:"channels"`
	Steps    []TimelineStep `json:"steps"`
}

// ChannelMark is one outbound channel's acceptance of a notice (e-mail,
// GOV.UK Notify, webhook) and whether it was by the notice's deadline.
type ChannelMark struct {
	Channel    string    `json:"channel"`
	AcceptedAt time.Time `json:"accepted_at"`
	ProviderID string    `json:"provider_id"`
	OnTime     bool      `json:"on_time"`
}

// Milestone is when a step happened and whether that was by the deadline.
type Milestone struct {
	At     time.Time `json:"at"`
	By     string    `json:"by,omitempty"`
	OnTime bool      `json:"on_time"`
}

// TimelineStep is one recorded event.
type TimelineStep struct {
	Seq            int64      `json:"seq,omitempty"`
	EventID        string     `json:"event_id"`
	Type           string     `json:"type"`
	Time           time.Time  `json:"time"`
	At             time.Time  `json:"at"`
	Actor          string     `json:"actor"`
	NotificationID string     `json:"notification_id,omitempty"`
	RuleID         string     `json:"rule_id,omitempty"`
	RecipientKind  string     `json:"recipient_kind,omitempty"`
	RecipientID    string     `json:"recipient_id,omitempty"`
	ChildIDs       []string   `json:"child_ids,omitempty"`
	SLAStep        string     `json:"sla_step,omitempty"`
	DueAt          *time.Time `json:"due_at,omitempty"`
	// Met says, for a delivery or acknowledgement, whether it happened
	// at or before its notification's deadline.
	Met *bool `json:"met,omitempty"`
	// Channels are, for a delivery, the channels that carried it.
	Channels []ChannelMark `json:"channels,omitempty"`
}

// BuildTimeline arranges the rows of one incident. seqs maps event ids to
// ledger sequence numbers, where known, so that an auditor can find each
// step in the ledger.
func BuildTimeline(incidentID string, s Set, seqs map[string]int64) Timeline {
	tl := Timeline{IncidentID: incidentID, Steps: []TimelineStep{}, Children: []ChildTimeline{}, Household: []NotificationTimeline{}}
	notes := map[string]Notification{}
	for _, n := range s.Notifications {
		notes[n.NotificationID] = n
	}
	carried := channelsByNotice(s.Channels, notes)
	for _, st := range s.Steps {
		step := timelineStep(st, notes, seqs)
		if st.Type == string(events.NotificationDelivered) {
			step.Channels = carried[st.NotificationID]
		}
		tl.Steps = append(tl.Steps, step)
	}
	var childIDs []string
	if len(s.Incidents) > 0 {
		at := s.Incidents[0].ReceivedAt
		tl.ReportedAt, childIDs = &at, s.Incidents[0].ChildIDs
	}
	tl.Children, tl.Household = groupByChild(childIDs, s.Notifications, tl.Steps, carried)
	return tl
}

// channelsByNotice marks each notice's channels on time or not against its
// deadline, in the canonical order.
func channelsByNotice(rows []Channel, notes map[string]Notification) map[string][]ChannelMark {
	out := map[string][]ChannelMark{}
	for _, c := range rows {
		due := notes[c.NotificationID].DueAt
		out[c.NotificationID] = append(out[c.NotificationID], ChannelMark{Channel: c.Channel, AcceptedAt: c.AcceptedAt,
			ProviderID: c.ProviderID, OnTime: due == nil || !c.AcceptedAt.After(*due)})
	}
	return out
}

func timelineStep(st Step, notes map[string]Notification, seqs map[string]int64) TimelineStep {
	out := TimelineStep{Seq: seqs[st.EventID], EventID: st.EventID, Type: st.Type, Time: st.Time, At: st.At,
		Actor: st.Actor, NotificationID: st.NotificationID, RuleID: st.RuleID, RecipientKind: st.RecipientKind,
		RecipientID: st.RecipientID, ChildIDs: st.ChildIDs, SLAStep: st.SLAStep, DueAt: st.DueAt}
	n, ok := notes[st.NotificationID]
	if !ok || st.Type == string(events.TriageDecided) {
		// A triage decision names the MASH notice, but the notice's
		// deadline is for its delivery, not for the decision.
		return out
	}
	out.RuleID = cmp.Or(out.RuleID, n.RuleID)
	if n.DueAt == nil {
		return out
	}
	out.DueAt = n.DueAt
	if st.Type == string(events.NotificationDelivered) || st.Type == string(events.NotificationAcknowledged) {
		met := !st.At.After(*n.DueAt)
		out.Met = &met
	}
	return out
}

// groupByChild files each notification under every child it names, in the
// order the notice lists the children, then any child only a notification
// names; notifications that name no child go to the household.
func groupByChild(childIDs []string, notes []Notification, steps []TimelineStep, carried map[string][]ChannelMark) ([]ChildTimeline, []NotificationTimeline) {
	order := slices.Clone(childIDs)
	byChild := map[string][]NotificationTimeline{}
	household := []NotificationTimeline{}
	for _, n := range sortedByRequest(notes) {
		nt := notificationTimeline(n, steps)
		nt.Channels = append([]ChannelMark{}, carried[n.NotificationID]...)
		if len(n.ChildIDs) == 0 {
			household = append(household, nt)
		}
		for _, c := range n.ChildIDs {
			if !slices.Contains(order, c) {
				order = append(order, c)
			}
			byChild[c] = append(byChild[c], nt)
		}
	}
	children := []ChildTimeline{}
	for _, c := range order {
		children = append(children, ChildTimeline{ChildID: c, Notifications: nonNilNotes(byChild[c])})
	}
	return children, household
}

func nonNilNotes(n []NotificationTimeline) []NotificationTimeline {
	if n == nil {
		return []NotificationTimeline{}
	}
	return n
}

// sortedByRequest orders notifications by when they were requested, then
// by rule and id, the order a reader expects.
func sortedByRequest(notes []Notification) []Notification {
	out := slices.Clone(notes)
	slices.SortStableFunc(out, func(a, b Notification) int {
		if c := CompareTimes(a.RequestedAt, b.RequestedAt); c != 0 {
			return c
		}
		if a.RuleID != b.RuleID {
			return compareStrings(a.RuleID, b.RuleID)
		}
		return compareStrings(a.NotificationID, b.NotificationID)
	})
	return out
}

// CompareTimes orders optional times, a missing one last.
func CompareTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func notificationTimeline(n Notification, steps []TimelineStep) NotificationTimeline {
	nt := NotificationTimeline{
		NotificationID: n.NotificationID,
		RuleID:         n.RuleID,
		Recipient:      Recipient{Kind: n.RecipientKind, ID: n.RecipientID, Name: n.RecipientName},
		DueAt:          n.DueAt,
		WatchedStep:    n.WatchedStep,
		Outcome:        n.Outcome,
		FailedAt:       n.FailedAt,
		Steps:          []TimelineStep{},
	}
	nt.Delivered = milestone(n.DeliveredAt, "", n.DueAt)
	nt.Acknowledged = milestone(n.AcknowledgedAt, n.AcknowledgedBy, n.DueAt)
	for _, st := range steps {
		if st.NotificationID == n.NotificationID && st.Type != string(events.TriageDecided) {
			nt.Steps = append(nt.Steps, st)
		}
	}
	return nt
}

func milestone(at *time.Time, by string, due *time.Time) *Milestone {
	if at == nil {
		return nil
	}
	return &Milestone{At: *at, By: by, OnTime: due == nil || !at.After(*due)}
}

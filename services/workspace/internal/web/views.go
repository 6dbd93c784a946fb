package web

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

// The JSON bodies of the API, described in schemas/openapi.yaml.

type meBody struct {
	UserID           string `json:"user_id"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	RoleLabel        string `json:"role_label"`
	Organisation     string `json:"organisation,omitempty"`
	OrganisationName string `json:"organisation_name,omitempty"`
}

func meOf(u identity.User) meBody {
	b := meBody{UserID: u.ID, Name: u.Name, Role: string(u.Role), RoleLabel: u.Role.Label(), Organisation: u.Org.String()}
	if !u.Org.IsZero() {
		b.OrganisationName = u.OrgName
	}
	return b
}

type personBody struct {
	UserID string `json:"user_id"`
	Name   string `json:"name,omitempty"`
	Role   string `json:"role,omitempty"`
}

type deadlineBody struct {
	DueAt time.Time `json:"due_at"`
	// SecondsLeft is negative once the deadline has passed.
	SecondsLeft int64  `json:"seconds_left"`
	TimeLeft    string `json:"time_left"`
	DueLondon   string `json:"due_london"`
}

func deadlineOf(due, now time.Time) deadlineBody {
	return deadlineBody{DueAt: due.UTC(), SecondsLeft: int64(due.Sub(now).Seconds()), TimeLeft: timeLeft(due, now),
		DueLondon: londonTime(due)}
}

type ackBody struct {
	NotificationID string     `json:"notification_id"`
	AcknowledgedAt time.Time  `json:"acknowledged_at"`
	AcknowledgedBy personBody `json:"acknowledged_by"`
	EventID        string     `json:"event_id"`
}

func ackOf(a *store.Acknowledgement) *ackBody {
	if a == nil {
		return nil
	}
	return &ackBody{NotificationID: a.NotificationID, AcknowledgedAt: a.At.UTC(),
		AcknowledgedBy: personBody{UserID: a.UserID, Name: a.UserName, Role: a.Role}, EventID: a.EventID}
}

type noticeSummaryBody struct {
	NotificationID string           `json:"notification_id"`
	IncidentID     string           `json:"incident_id"`
	Recipient      events.Recipient `json:"recipient"`
	RuleID         string           `json:"rule_id"`
	Profile        string           `json:"profile"`
	OccurredAt     time.Time        `json:"occurred_at"`
	ReceivedAt     time.Time        `json:"received_at"`
	DeliveredAt    *time.Time       `json:"delivered_at,omitempty"`
	// ChannelsPending marks a notice in the inbox whose prompts by e-mail,
	// Notify or webhook are not all accepted yet.
	ChannelsPending bool         `json:"channels_pending"`
	Deadline        deadlineBody `json:"deadline"`
	Children        []string     `json:"children"`
	Status          string       `json:"status"`
	Acknowledgment  *ackBody     `json:"acknowledgement,omitempty"`
}

func summaryOf(v casework.NoticeView, now time.Time) noticeSummaryBody {
	status := "new"
	if v.Ack != nil {
		status = "acknowledged"
	}
	return noticeSummaryBody{NotificationID: v.NotificationID, IncidentID: v.IncidentID, Recipient: v.Recipient,
		RuleID: v.RuleID, Profile: v.Profile, OccurredAt: v.OccurredAt.UTC(), ReceivedAt: v.ReceivedAt().UTC(),
		DeliveredAt: v.DeliveredAt, ChannelsPending: v.ChannelsPending(), Deadline: deadlineOf(v.DueAt, now), Children: nonNil(v.Content.ChildNames()), Status: status,
		Acknowledgment: ackOf(v.Ack)}
}

type noticeBody struct {
	noticeSummaryBody
	PolicyVersion string          `json:"policy_version"`
	Calendar      string          `json:"calendar"`
	LawfulBasis   string          `json:"lawful_basis"`
	Purpose       string          `json:"purpose,omitempty"`
	Repeat        bool            `json:"repeat"`
	Flags         []string        `json:"flags"`
	Notice        json.RawMessage `json:"notice"`
}

func noticeOf(v casework.NoticeView, now time.Time) noticeBody {
	return noticeBody{noticeSummaryBody: summaryOf(v, now), PolicyVersion: v.PolicyVersion, Calendar: v.Calendar,
		LawfulBasis: v.LawfulBasis, Purpose: v.Purpose, Repeat: v.Repeat, Flags: nonNil(v.Flags), Notice: v.Notice.Content}
}

type claimBody struct {
	NotificationID string     `json:"notification_id"`
	ClaimedBy      personBody `json:"claimed_by"`
	ClaimedAt      time.Time  `json:"claimed_at"`
}

func claimOf(c *store.Claim) *claimBody {
	if c == nil {
		return nil
	}
	return &claimBody{NotificationID: c.NotificationID, ClaimedBy: personBody{UserID: c.UserID, Name: c.UserName},
		ClaimedAt: c.ClaimedAt.UTC()}
}

type decisionBody struct {
	IncidentID     string     `json:"incident_id"`
	NotificationID string     `json:"notification_id"`
	RAG            string     `json:"rag"`
	DefaultRAG     string     `json:"default_rag"`
	RAGReason      string     `json:"rag_reason,omitempty"`
	Decision       string     `json:"decision"`
	DecidedAt      time.Time  `json:"decided_at"`
	DecidedBy      personBody `json:"decided_by"`
	EventID        string     `json:"event_id"`
}

func decisionOf(t *store.TriageDecision) *decisionBody {
	if t == nil {
		return nil
	}
	return &decisionBody{IncidentID: t.IncidentID, NotificationID: t.NotificationID, RAG: t.RAG, DefaultRAG: t.DefaultRAG,
		RAGReason: t.RAGReason, Decision: t.Decision, DecidedAt: t.DecidedAt.UTC(),
		DecidedBy: personBody{UserID: t.UserID, Name: t.UserName, Role: t.Role}, EventID: t.EventID}
}

type queueItemBody struct {
	NotificationID  string       `json:"notification_id"`
	IncidentID      string       `json:"incident_id"`
	PoliceReference string       `json:"police_reference"`
	OccurredAt      time.Time    `json:"occurred_at"`
	Deadline        deadlineBody `json:"deadline"`
	TriageDeadline  deadlineBody `json:"triage_deadline"`
	ArrivedLate     bool         `json:"arrived_late"`
	DefaultRAG      string       `json:"default_rag"`
	DASHLevel       string       `json:"dash_level"`
	Children        []string     `json:"children"`
	Flags           []string     `json:"flags"`
	Claim           *claimBody   `json:"claim,omitempty"`
}

func queueItemOf(v casework.NoticeView, now time.Time) queueItemBody {
	return queueItemBody{NotificationID: v.NotificationID, IncidentID: v.IncidentID,
		PoliceReference: v.Content.PoliceReference, OccurredAt: v.OccurredAt.UTC(), Deadline: deadlineOf(v.DueAt, now),
		TriageDeadline: deadlineOf(v.TriageDue(), now), ArrivedLate: v.ArrivedLate(),
		DefaultRAG: notice.DefaultRAG(v.Flags, v.Content.Level()), DASHLevel: v.Content.Level(),
		Children: nonNil(v.Content.ChildNames()), Flags: nonNil(notice.ShownFlags(v.Flags)), Claim: claimOf(v.Claim)}
}

type historyBody struct {
	IncidentID      string        `json:"incident_id"`
	NotificationID  string        `json:"notification_id"`
	OccurredAt      time.Time     `json:"occurred_at"`
	PoliceReference string        `json:"police_reference"`
	DASHLevel       string        `json:"dash_level"`
	MatchedPeople   []string      `json:"matched_people"`
	MatchedBy       []string      `json:"matched_by"`
	Decision        *decisionBody `json:"decision,omitempty"`
}

type incidentBody struct {
	NotificationID  string           `json:"notification_id"`
	IncidentID      string           `json:"incident_id"`
	Recipient       events.Recipient `json:"recipient"`
	RuleID          string           `json:"rule_id"`
	ReceivedAt      time.Time        `json:"received_at"`
	DeliveredAt     *time.Time       `json:"delivered_at,omitempty"`
	ChannelsPending bool             `json:"channels_pending"`
	Deadline        deadlineBody     `json:"deadline"`
	TriageDeadline  deadlineBody     `json:"triage_deadline"`
	ArrivedLate     bool             `json:"arrived_late"`
	DefaultRAG      string           `json:"default_rag"`
	RAGReasons      []string         `json:"rag_reasons"`
	Flags           []string         `json:"flags"`
	LawfulBasis     string           `json:"lawful_basis"`
	Purpose         string           `json:"purpose,omitempty"`
	Notice          json.RawMessage  `json:"notice"`
	Claim           *claimBody       `json:"claim,omitempty"`
	Decision        *decisionBody    `json:"decision,omitempty"`
	History         []historyBody    `json:"history"`
}

func incidentOf(v casework.IncidentView, now time.Time) incidentBody {
	b := incidentBody{NotificationID: v.NotificationID, IncidentID: v.IncidentID, Recipient: v.Recipient, RuleID: v.RuleID,
		ReceivedAt: v.ReceivedAt().UTC(), DeliveredAt: v.DeliveredAt, ChannelsPending: v.ChannelsPending(),
		Deadline: deadlineOf(v.DueAt, now), TriageDeadline: deadlineOf(v.TriageDue(), now),
		ArrivedLate: v.ArrivedLate(), DefaultRAG: v.DefaultRAG,
		RAGReasons: nonNil(notice.RAGReasons(v.Flags)), Flags: nonNil(notice.ShownFlags(v.Flags)), LawfulBasis: v.LawfulBasis,
		Purpose: v.Purpose, Notice: v.Notice.Content, Claim: claimOf(v.Claim), Decision: decisionOf(v.Triage),
		History: []historyBody{}}
	for _, h := range v.History {
		b.History = append(b.History, historyBody{IncidentID: h.IncidentID, NotificationID: h.NotificationID,
			OccurredAt: h.OccurredAt.UTC(), PoliceReference: h.Notice.Content.PoliceReference,
			DASHLevel: h.Notice.Content.Level(), MatchedPeople: nonNil(h.Matched), MatchedBy: nonNil(h.MatchedBy),
			Decision: decisionOf(h.Notice.Triage)})
	}
	return b
}

type overviewBody struct {
	Kinds []kindCountsBody `json:"kinds"`
}

type kindCountsBody struct {
	Kind         string `json:"kind"`
	Requested    int    `json:"requested"`
	Delivered    int    `json:"delivered"`
	Acknowledged int    `json:"acknowledged"`
	Decided      int    `json:"decided"`
	Overdue      int    `json:"overdue"`
}

func overviewOf(counts []store.KindCounts) overviewBody {
	b := overviewBody{Kinds: []kindCountsBody{}}
	for _, k := range counts {
		b.Kinds = append(b.Kinds, kindCountsBody(k))
	}
	return b
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// timeLeft says how long is left until due, or how long ago it passed, in
// words a person reads at a glance.
func timeLeft(due, now time.Time) string {
	d := due.Sub(now)
	if d < 0 {
		return "overdue by " + duration(-d)
	}
	return duration(d) + " left"
}

func duration(d time.Duration) string {
	minutes := int64(d.Round(time.Minute) / time.Minute)
	days, hours, mins := minutes/(24*60), minutes/60%24, minutes%60
	switch {
	case days > 0:
		return fmt.Sprintf("%d %s %d h", days, plural(days, "day", "days"), hours)
	case hours > 0:
		return fmt.Sprintf("%d h %d min", hours, mins)
	}
	return fmt.Sprintf("%d min", mins)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// londonTime shows an instant as people in England read it.
func londonTime(t time.Time) string {
	return t.In(calendar.London).Format("Mon 2 Jan 2006, 15:04")
}

// channelName is an outbound channel as people read it.
func channelName(channel string) string {
	switch channel {
	case "email":
		return "E-mail"
	case "notify_email":
		return "E-mail (GOV.UK Notify)"
	case "notify_sms":
		return "Text message (GOV.UK Notify)"
	case "webhook":
		return "Your case management system (webhook)"
	}
	return channel
}

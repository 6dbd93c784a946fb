package projection

import (
	"strings"
)

// table describes how one projection's rows are stored: its columns, in
// the order fields returns pointers to the row's fields, and the key that
// orders it canonically.
type table[T any] struct {
	name    string
	columns []string
	key     []string
	fields  func(*T) []any
}

// orderBy sorts by the key in byte order, the order Go's sort uses, so
// that the database and memory agree whatever the database's collation.
func (t table[T]) orderBy() string {
	parts := make([]string, len(t.key))
	for i, k := range t.key {
		parts[i] = k
		if k != "event_time" {
			parts[i] += ` COLLATE "C"`
		}
	}
	return strings.Join(parts, ", ")
}

var incidentsTable = table[Incident]{
	name: "incidents",
	columns: []string{"incident_id", "received_at", "occurred_at", "force_code", "local_authority", "dash_level",
		"child_ids", "children_present", "children_with_voice", "unborn_victim", "same_parties_incidents_12m"},
	key: []string{"incident_id"},
	fields: func(r *Incident) []any {
		return []any{&r.IncidentID, &r.ReceivedAt, &r.OccurredAt, &r.ForceCode, &r.LocalAuthority, &r.DASHLevel,
			&r.ChildIDs, &r.ChildrenPresent, &r.ChildrenWithVoice, &r.UnbornVictim, &r.SamePartiesIncidents12m}
	},
}

var stepsTable = table[Step]{
	name: "steps",
	columns: []string{"incident_id", "event_id", "event_type", "event_time", "at", "actor", "notification_id",
		"recipient_kind", "recipient_id", "rule_id", "child_ids", "due_at", "sla_step"},
	key: []string{"incident_id", "event_time", "event_id"},
	fields: func(r *Step) []any {
		return []any{&r.IncidentID, &r.EventID, &r.Type, &r.Time, &r.At, &r.Actor, &r.NotificationID, &r.RecipientKind,
			&r.RecipientID, &r.RuleID, &r.ChildIDs, &r.DueAt, &r.SLAStep}
	},
}

var notificationsTable = table[Notification]{
	name: "notifications",
	columns: []string{"notification_id", "incident_id", "rule_id", "policy_version", "recipient_kind",
		"recipient_id", "recipient_name", "child_ids", "calendar", "profile", "repeat", "requested_at", "due_at",
		"watched_step", "delivered_at", "acknowledged_at", "acknowledged_by", "failed_at", "failure_reason",
		"state", "outcome"},
	key: []string{"notification_id", "incident_id"},
	fields: func(r *Notification) []any {
		return []any{&r.NotificationID, &r.IncidentID, &r.RuleID, &r.PolicyVersion, &r.RecipientKind,
			&r.RecipientID, &r.RecipientName, &r.ChildIDs, &r.Calendar, &r.Profile, &r.Repeat, &r.RequestedAt,
			&r.DueAt, &r.WatchedStep, &r.DeliveredAt, &r.AcknowledgedAt, &r.AcknowledgedBy, &r.FailedAt,
			&r.FailureReason, &r.State, &r.Outcome}
	},
}

var inboxTable = table[InboxItem]{
	name: "inbox",
	columns: []string{"recipient_kind", "recipient_id", "notification_id", "incident_id", "rule_id",
		"delivered_at", "acknowledged_at", "acknowledged_by"},
	key: []string{"recipient_kind", "recipient_id", "notification_id", "incident_id"},
	fields: func(r *InboxItem) []any {
		return []any{&r.RecipientKind, &r.RecipientID, &r.NotificationID, &r.IncidentID, &r.RuleID,
			&r.DeliveredAt, &r.AcknowledgedAt, &r.AcknowledgedBy}
	},
}

var triageTable = table[Triage]{
	name: "triage",
	columns: []string{"event_id", "incident_id", "notification_id", "rag", "default_rag", "decision",
		"overridden", "reason_given", "decided_at", "decided_by"},
	key: []string{"event_id"},
	fields: func(r *Triage) []any {
		return []any{&r.EventID, &r.IncidentID, &r.NotificationID, &r.RAG, &r.DefaultRAG, &r.Decision,
			&r.Overridden, &r.ReasonGiven, &r.DecidedAt, &r.DecidedBy}
	},
}

var breachesTable = table[Breach]{
	name: "breaches",
	columns: []string{"event_id", "notification_id", "incident_id", "rule_id", "recipient_kind", "step",
		"due_at", "observed_at"},
	key: []string{"event_id"},
	fields: func(r *Breach) []any {
		return []any{&r.EventID, &r.NotificationID, &r.IncidentID, &r.RuleID, &r.RecipientKind, &r.Step,
			&r.DueAt, &r.ObservedAt}
	},
}

var channelsTable = table[Channel]{
	name:    "channels",
	columns: []string{"incident_id", "notification_id", "channel", "accepted_at", "provider_id"},
	key:     []string{"notification_id", "channel", "provider_id", "incident_id"},
	fields: func(r *Channel) []any {
		return []any{&r.IncidentID, &r.NotificationID, &r.Channel, &r.AcceptedAt, &r.ProviderID}
	},
}

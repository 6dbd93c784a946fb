// Package store is the workspace's hand-written SQL over its own PostgreSQL
// schema, "workspace": the projection of notices built from events, the
// acknowledgements and triage decisions, claims, users and sessions.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/workspace/migrations"
)

// Schema is the workspace's PostgreSQL schema.
const Schema = "workspace"

// Querier runs SQL: a pool or a transaction.
type Querier = pgdb.Querier

// Migrate brings the schema's own tables up to date.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgdb.Migrate(ctx, pool, Schema, migrations.FS)
}

// Notice is one notice to one recipient, with what has happened to it.
type Notice struct {
	NotificationID string
	IncidentID     string
	RuleID         string
	PolicyVersion  string
	Recipient      events.Recipient
	ChildIDs       []string
	Profile        string
	Calendar       string
	LawfulBasis    string
	Purpose        string
	Repeat         bool
	Flags          []string
	Content        json.RawMessage
	OccurredAt     time.Time
	RequestedAt    time.Time
	// DueAt is the notice's own deadline; for the MASH, R1's (police to
	// MASH, from the incident).
	DueAt time.Time
	// TriageDueAt is R2's deadline for the MASH's rating, from the MASH's
	// receipt; MASH notices only.
	TriageDueAt *time.Time
	// DeliveredAt is when the notice was delivered in full: in the inbox
	// and accepted by every outbound channel configured for its recipient
	// (contract.md section 5). Until then it is nil, though the notice is
	// already in the inbox.
	DeliveredAt *time.Time
	// Channels are the outbound channels that carried the notice besides
	// the inbox, and when each accepted it.
	Channels []events.ChannelReceipt
	Ack      *Acknowledgement
	Claim    *Claim
	Triage   *TriageDecision
}

// TriageDue is when the MASH's rating is due: R2's deadline, or the
// notice's own for one recorded before notices carried it.
func (n Notice) TriageDue() time.Time {
	if n.TriageDueAt != nil {
		return *n.TriageDueAt
	}
	return n.DueAt
}

// ReceivedAt is when the notice reached its recipient's inbox: as it was
// requested, since delivery writes its inbox copy as it takes the request
// and the workspace shows the notice from its projection of it. Delivery
// in full (DeliveredAt) may come hours later, when a prompt is held for a
// school's hours or retried, or never, when a channel fails; the inbox
// copy is there all the same.
func (n Notice) ReceivedAt() time.Time { return n.RequestedAt }

// ChannelsPending says whether the notice's prompts by its outbound
// channels are not all accepted yet: still being sent, held for the
// recipient's hours, retried, or given up.
func (n Notice) ChannelsPending() bool { return n.DeliveredAt == nil }

// ArrivedLate says whether the notice reached its recipient after its own
// deadline, as a PPN sent to the MASH after R1's does.
func (n Notice) ArrivedLate() bool { return n.ReceivedAt().After(n.DueAt) }

// LateBy is how long after its own deadline the notice arrived.
func (n Notice) LateBy() time.Duration {
	if !n.ArrivedLate() {
		return 0
	}
	return n.ReceivedAt().Sub(n.DueAt)
}

// TriageDiffers says whether the triage deadline is not the notice's own,
// so that a page shows both.
func (n Notice) TriageDiffers() bool { return !n.TriageDue().Equal(n.DueAt) }

// Acknowledgement is the one acknowledgement of a notice.
type Acknowledgement struct {
	NotificationID string
	IncidentID     string
	At             time.Time
	UserID         string
	Role           string
	// UserName is the name the user signed in with, when they have.
	UserName string
	EventID  string
}

// TriageDecision is the MASH's one decision on an incident.
type TriageDecision struct {
	IncidentID     string
	NotificationID string
	RAG            string
	DefaultRAG     string
	RAGReason      string
	Decision       string
	DecidedAt      time.Time
	UserID         string
	Role           string
	UserName       string
	EventID        string
}

// Claim says who is working a MASH notice.
type Claim struct {
	NotificationID string
	UserID         string
	UserName       string
	ClaimedAt      time.Time
}

// noticeColumns reads a notice with everything that has happened to it; the
// joins are one row each at most because every joined table is keyed by
// the notice or its incident.
const noticeColumns = `SELECT n.notification_id::text, n.incident_id::text, n.rule_id, n.policy_version,
	n.recipient_kind, n.recipient_id, n.recipient_name, n.child_ids, n.profile, n.calendar, n.lawful_basis,
	n.purpose, n.repeat, n.flags, n.notice, n.occurred_at, n.requested_at, n.due_at, n.triage_due_at, d.delivered_at,
	coalesce(d.channels, '[]'),
	a.acknowledged_at, a.user_id, a.role, coalesce(au.name, ''), a.event_id::text,
	c.claimed_at, c.user_id, c.user_name,
	t.rag, t.default_rag, t.rag_reason, t.decision, t.decided_at, t.user_id, t.role, coalesce(tu.name, ''), t.event_id::text
	FROM workspace.notices n
	LEFT JOIN workspace.deliveries d ON d.notification_id = n.notification_id
	LEFT JOIN workspace.acknowledgements a ON a.notification_id = n.notification_id
	LEFT JOIN workspace.users au ON au.user_id = a.user_id
	LEFT JOIN workspace.claims c ON c.notification_id = n.notification_id
	LEFT JOIN workspace.triage_decisions t ON t.notification_id = n.notification_id
	LEFT JOIN workspace.users tu ON tu.user_id = t.user_id `

func scanNotice(row pgx.Row) (Notice, error) {
	var n Notice
	var kind string
	var ackAt, claimAt, decidedAt *time.Time
	var ackUser, ackRole, ackEvent, claimUser, claimName *string
	var ackName, triageName string
	var rag, defaultRAG, reason, decision, triageUser, triageRole, triageEvent *string
	err := row.Scan(&n.NotificationID, &n.IncidentID, &n.RuleID, &n.PolicyVersion, &kind, &n.Recipient.ID,
		&n.Recipient.Name, &n.ChildIDs, &n.Profile, &n.Calendar, &n.LawfulBasis, &n.Purpose, &n.Repeat, &n.Flags,
		&n.Content, &n.OccurredAt, &n.RequestedAt, &n.DueAt, &n.TriageDueAt, &n.DeliveredAt,
		&n.Channels,
		&ackAt, &ackUser, &ackRole, &ackName, &ackEvent,
		&claimAt, &claimUser, &claimName,
		&rag, &defaultRAG, &reason, &decision, &decidedAt, &triageUser, &triageRole, &triageName, &triageEvent)
	if err != nil {
		return Notice{}, err
	}
	n.Recipient.Kind = events.RecipientKind(kind)
	if ackAt != nil {
		n.Ack = &Acknowledgement{NotificationID: n.NotificationID, IncidentID: n.IncidentID, At: *ackAt,
			UserID: *ackUser, Role: *ackRole, UserName: ackName, EventID: *ackEvent}
	}
	if claimAt != nil {
		n.Claim = &Claim{NotificationID: n.NotificationID, UserID: *claimUser, UserName: *claimName, ClaimedAt: *claimAt}
	}
	if decidedAt != nil {
		n.Triage = &TriageDecision{IncidentID: n.IncidentID, NotificationID: n.NotificationID, RAG: *rag,
			DefaultRAG: *defaultRAG, RAGReason: *reason, Decision: *decision, DecidedAt: *decidedAt,
			UserID: *triageUser, Role: *triageRole, UserName: triageName, EventID: *triageEvent}
	}
	return n, nil
}

func queryNotices(ctx context.Context, q Querier, where string, args ...any) ([]Notice, error) {
	rows, err := q.Query(ctx, noticeColumns+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading notices: %w", err)
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, fmt.Errorf("scanning notice: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading notices: %w", err)
	}
	return out, nil
}

// ErrNotFound is returned when no record matches.
var ErrNotFound = errors.New("not found")

// NoticeByID returns one notice, delivered or not.
func NoticeByID(ctx context.Context, q Querier, notificationID string) (Notice, error) {
	list, err := queryNotices(ctx, q, `WHERE n.notification_id = $1`, notificationID)
	if err != nil {
		return Notice{}, err
	}
	if len(list) == 0 {
		return Notice{}, ErrNotFound
	}
	return list[0], nil
}

// Inbox returns the notices in a recipient's inbox, delivered in full or
// with prompts still being sent, the
// earliest deadline first: for the MASH, the triage deadline, which a
// notice received late may have well ahead of its long-passed R1 one. With
// undecidedOnly, notices whose incident the MASH has decided are left out.
func Inbox(ctx context.Context, q Querier, kind events.RecipientKind, id string, undecidedOnly bool) ([]Notice, error) {
	where := `WHERE n.recipient_kind = $1 AND n.recipient_id = $2`
	if undecidedOnly {
		where += ` AND t.incident_id IS NULL`
	}
	return queryNotices(ctx, q, where+` ORDER BY coalesce(n.triage_due_at, n.due_at), n.notification_id`, string(kind), id)
}

// MASHNoticesForIncident returns the MASH notices of an incident, of any
// organisation, so that the caller can tell "not yours" from "no such".
func MASHNoticesForIncident(ctx context.Context, q Querier, incidentID string) ([]Notice, error) {
	return queryNotices(ctx, q, `WHERE n.incident_id = $1 AND n.recipient_kind = 'mash' ORDER BY n.recipient_id`, incidentID)
}

// IncidentIDOf returns the incident of a notification, whoever it was for,
// for recording a refusal against the right incident.
func IncidentIDOf(ctx context.Context, q Querier, notificationID string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT incident_id::text FROM workspace.notices WHERE notification_id = $1`, notificationID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}

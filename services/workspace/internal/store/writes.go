package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// InsertNotice stores a requested notice; storing it again changes nothing.
func InsertNotice(ctx context.Context, q Querier, n events.NotificationRequestedData, occurredAt time.Time) (bool, error) {
	flags := n.Flags
	if flags == nil {
		flags = []string{}
	}
	tag, err := q.Exec(ctx, `INSERT INTO workspace.notices (notification_id, incident_id, rule_id, policy_version,
		recipient_kind, recipient_id, recipient_name, child_ids, profile, calendar, lawful_basis, purpose, repeat,
		flags, notice, occurred_at, requested_at, due_at, triage_due_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
		ON CONFLICT (notification_id) DO NOTHING`,
		n.NotificationID, n.IncidentID, n.RuleID, n.PolicyVersion, string(n.Recipient.Kind), n.Recipient.ID,
		n.Recipient.Name, n.ChildIDs, n.Profile, n.Calendar, n.LawfulBasis, n.Purpose, n.Repeat, flags,
		[]byte(n.Notice), occurredAt, n.RequestedAt, n.DueAt, n.TriageDueAt)
	if err != nil {
		return false, fmt.Errorf("storing notice %s: %w", n.NotificationID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Person is one person of a MASH notice, indexed for matching.
type Person struct {
	PersonID    string
	NameKey     string
	DateOfBirth string
	NHSNumber   string
}

// InsertMASHPeople indexes the people of a full MASH notice.
func InsertMASHPeople(ctx context.Context, q Querier, n events.NotificationRequestedData, occurredAt time.Time, people []Person) error {
	for _, p := range people {
		_, err := q.Exec(ctx, `INSERT INTO workspace.mash_people (notification_id, incident_id, recipient_id,
			person_id, name_key, date_of_birth, nhs_number, occurred_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
			ON CONFLICT DO NOTHING`, n.NotificationID, n.IncidentID, n.Recipient.ID, p.PersonID, p.NameKey,
			p.DateOfBirth, p.NHSNumber, occurredAt)
		if err != nil {
			return fmt.Errorf("indexing people of %s: %w", n.NotificationID, err)
		}
	}
	return nil
}

// InsertDelivery records that a notice reached its recipient.
func InsertDelivery(ctx context.Context, q Querier, d events.NotificationDeliveredData) error {
	channels, err := json.Marshal(nonNilReceipts(d.Channels))
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO workspace.deliveries (notification_id, delivered_at, channel, channels)
		VALUES ($1,$2,$3,$4) ON CONFLICT (notification_id) DO NOTHING`, d.NotificationID, d.DeliveredAt, d.Channel, channels)
	if err != nil {
		return fmt.Errorf("storing delivery of %s: %w", d.NotificationID, err)
	}
	return nil
}

func nonNilReceipts(r []events.ChannelReceipt) []events.ChannelReceipt {
	if r == nil {
		return []events.ChannelReceipt{}
	}
	return r
}

// InsertAcknowledgement stores the acknowledgement of a notice unless it
// has one, and reports whether this one was stored. The first
// acknowledgement stands; a later one, from anyone, changes nothing.
func InsertAcknowledgement(ctx context.Context, q Querier, a Acknowledgement) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO workspace.acknowledgements (notification_id, incident_id, acknowledged_at,
		user_id, role, event_id) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING`,
		a.NotificationID, a.IncidentID, a.At, a.UserID, a.Role, a.EventID)
	if err != nil {
		return false, fmt.Errorf("storing acknowledgement of %s: %w", a.NotificationID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// InsertTriage stores the decision on an incident unless it has one, and
// reports whether this one was stored.
func InsertTriage(ctx context.Context, q Querier, t TriageDecision) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO workspace.triage_decisions (incident_id, notification_id, rag, default_rag,
		rag_reason, decision, decided_at, user_id, role, event_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT DO NOTHING`, t.IncidentID, t.NotificationID, t.RAG, t.DefaultRAG, t.RAGReason, t.Decision,
		t.DecidedAt, t.UserID, t.Role, t.EventID)
	if err != nil {
		return false, fmt.Errorf("storing triage of %s: %w", t.IncidentID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ClaimOf returns who holds the claim on a notice, locking the row inside a
// transaction so that two workers claiming at once are put in order.
func ClaimOf(ctx context.Context, tx pgx.Tx, notificationID string) (*Claim, error) {
	c := Claim{NotificationID: notificationID}
	err := tx.QueryRow(ctx, `SELECT user_id, user_name, claimed_at FROM workspace.claims
		WHERE notification_id = $1 FOR UPDATE`, notificationID).Scan(&c.UserID, &c.UserName, &c.ClaimedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading claim on %s: %w", notificationID, err)
	}
	return &c, nil
}

// PutClaim gives the claim on a notice to a user, replacing any other.
func PutClaim(ctx context.Context, q Querier, c Claim) error {
	_, err := q.Exec(ctx, `INSERT INTO workspace.claims (notification_id, user_id, user_name, claimed_at)
		VALUES ($1,$2,$3,$4) ON CONFLICT (notification_id) DO UPDATE
		SET user_id = excluded.user_id, user_name = excluded.user_name, claimed_at = excluded.claimed_at`,
		c.NotificationID, c.UserID, c.UserName, c.ClaimedAt)
	if err != nil {
		return fmt.Errorf("claiming %s: %w", c.NotificationID, err)
	}
	return nil
}

// DeleteClaim releases the claim on a notice.
func DeleteClaim(ctx context.Context, q Querier, notificationID string) error {
	if _, err := q.Exec(ctx, `DELETE FROM workspace.claims WHERE notification_id = $1`, notificationID); err != nil {
		return fmt.Errorf("releasing %s: %w", notificationID, err)
	}
	return nil
}

// LockIncident serialises the decisions on one incident: two workers
// pressing "decide" at once are taken one after the other, so the second
// sees the first's decision.
func LockIncident(ctx context.Context, tx pgx.Tx, incidentID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, incidentID); err != nil {
		return fmt.Errorf("locking incident %s: %w", incidentID, err)
	}
	return nil
}

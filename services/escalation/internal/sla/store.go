package sla

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// incidentLockClass is the first key of the advisory locks that serialise
// the events of one incident; the second is a hash of the incident id.
const incidentLockClass = 0x45534341

// lockIncident makes events of one incident apply one after the other. A
// triage decision and a MASH request applied at once by two consumers would
// otherwise each miss the other's uncommitted row, and the triage step would
// be left open though the MASH had rated the notice.
func lockIncident(ctx context.Context, tx pgx.Tx, incidentID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, incidentLockClass, incidentID); err != nil {
		return fmt.Errorf("locking incident %s: %w", incidentID, err)
	}
	return nil
}

// recordRequest stores what notification.requested says. A row made
// earlier by a delivery or acknowledgement gains the request's columns; a
// second request for the same notice changes nothing.
func recordRequest(ctx context.Context, tx pgx.Tx, n events.NotificationRequestedData) error {
	var triageDue *time.Time
	if n.Recipient.Kind == events.KindMASH {
		triageDue = n.TriageDueAt
	}
	_, err := tx.Exec(ctx, `INSERT INTO escalation.notifications (notification_id, incident_id, requested_at, rule_id,
		recipient_kind, recipient_id, recipient_name, recipient_email, due_at, triage_due_at, received_at, force_code)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (notification_id) DO UPDATE SET requested_at = EXCLUDED.requested_at, rule_id = EXCLUDED.rule_id,
			recipient_kind = EXCLUDED.recipient_kind, recipient_id = EXCLUDED.recipient_id,
			recipient_name = EXCLUDED.recipient_name, recipient_email = EXCLUDED.recipient_email,
			due_at = EXCLUDED.due_at, triage_due_at = EXCLUDED.triage_due_at,
			received_at = EXCLUDED.received_at, force_code = EXCLUDED.force_code
		WHERE notifications.requested_at IS NULL`,
		n.NotificationID, n.IncidentID, n.RequestedAt, n.RuleID, string(n.Recipient.Kind), n.Recipient.ID,
		n.Recipient.Name, emptyAsNull(n.Recipient.Email), n.DueAt, triageDue, n.ReceivedAt, emptyAsNull(n.ForceCode))
	if err != nil {
		return fmt.Errorf("recording request %s: %w", n.NotificationID, err)
	}
	return nil
}

// Columns of notifications that hold the time of one fact.
const (
	columnDelivered    = "delivered_at"
	columnAcknowledged = "acknowledged_at"
	columnFailed       = "failed_at"
)

// recordTime stores the time of a fact about a notice (its delivery or its
// acknowledgement), keeping the earliest if it is heard of twice. It makes
// the row if the request has not arrived yet.
func recordTime(ctx context.Context, tx pgx.Tx, column, notificationID, incidentID string, at time.Time) error {
	col := pgx.Identifier{column}.Sanitize()
	_, err := tx.Exec(ctx, `INSERT INTO escalation.notifications (notification_id, incident_id, `+col+`)
		VALUES ($1, $2, $3)
		ON CONFLICT (notification_id) DO UPDATE SET `+col+` = LEAST(notifications.`+col+`, EXCLUDED.`+col+`)`,
		notificationID, incidentID, at)
	if err != nil {
		return fmt.Errorf("recording %s of %s: %w", column, notificationID, err)
	}
	return nil
}

// recordTriage stores the earliest triage decision of an incident and
// returns the MASH notices of the incident already known, whose triage
// steps it completes.
func recordTriage(ctx context.Context, tx pgx.Tx, incidentID string, at time.Time) ([]string, error) {
	_, err := tx.Exec(ctx, `INSERT INTO escalation.triage_decisions (incident_id, decided_at) VALUES ($1, $2)
		ON CONFLICT (incident_id) DO UPDATE SET decided_at = LEAST(triage_decisions.decided_at, EXCLUDED.decided_at)`,
		incidentID, at)
	if err != nil {
		return nil, fmt.Errorf("recording triage of %s: %w", incidentID, err)
	}
	rows, err := tx.Query(ctx, `SELECT notification_id::text FROM escalation.notifications
		WHERE incident_id = $1 AND recipient_kind = $2 ORDER BY notification_id`, incidentID, string(events.KindMASH))
	if err != nil {
		return nil, fmt.Errorf("finding MASH notices of %s: %w", incidentID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reading MASH notices of %s: %w", incidentID, err)
	}
	return ids, nil
}

// lockFacts reads everything known of a notice and locks its row, so that
// two events about one notice are planned one after the other. It returns
// false when nothing is known.
func lockFacts(ctx context.Context, tx pgx.Tx, notificationID string) (facts, bool, error) {
	var (
		f                                          facts
		requestedAt, dueAt, delivered, acked, tria pgtype.Timestamptz
		triageDue, received                        pgtype.Timestamptz
		failed                                     pgtype.Timestamptz
		ruleID, kind, id, name, email              pgtype.Text
	)
	err := tx.QueryRow(ctx, `SELECT n.notification_id::text, n.incident_id::text, n.requested_at, n.rule_id,
			n.recipient_kind, n.recipient_id, n.recipient_name, n.recipient_email, n.due_at, n.triage_due_at,
			n.delivered_at, n.acknowledged_at, t.decided_at, n.failed_at, n.received_at
		FROM escalation.notifications n LEFT JOIN escalation.triage_decisions t USING (incident_id)
		WHERE n.notification_id = $1 FOR UPDATE OF n`, notificationID).
		Scan(&f.NotificationID, &f.IncidentID, &requestedAt, &ruleID, &kind, &id, &name, &email, &dueAt, &triageDue,
			&delivered, &acked, &tria, &failed, &received)
	if errors.Is(err, pgx.ErrNoRows) {
		return facts{}, false, nil
	}
	if err != nil {
		return facts{}, false, fmt.Errorf("reading notice %s: %w", notificationID, err)
	}
	f.Requested = requestedAt.Valid
	f.RequestedAt, f.DueAt = requestedAt.Time, dueAt.Time
	f.RuleID, f.TriageDueAt = ruleID.String, triageDue.Time
	f.Recipient = events.Recipient{Kind: events.RecipientKind(kind.String), ID: id.String, Name: name.String, Email: email.String}
	f.DeliveredAt, f.AcknowledgedAt, f.TriagedAt = delivered.Time, acked.Time, tria.Time
	f.FailedAt, f.ReceivedAt = failed.Time, received.Time
	return f, true, nil
}

// saveStep makes a step, or marks it done. A step's deadline is fixed when
// it is made: planning it again with later reference data does not move
// it. Its done time only ever moves earlier, and so does its at-risk time
// when a failed delivery brings it forward.
func saveStep(ctx context.Context, tx pgx.Tx, notificationID string, s step) error {
	_, err := tx.Exec(ctx, `INSERT INTO escalation.steps (notification_id, step, rule_id, starts_at, at_risk_at, due_at, done_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (notification_id, step) DO UPDATE SET done_at = LEAST(steps.done_at, EXCLUDED.done_at),
			at_risk_at = CASE WHEN $8 THEN LEAST(steps.at_risk_at, EXCLUDED.at_risk_at) ELSE steps.at_risk_at END`,
		notificationID, s.Name, s.RuleID, s.StartsAt, s.AtRiskAt, s.DueAt, zeroAsNull(s.DoneAt), s.Failed)
	if err != nil {
		return fmt.Errorf("saving %s step of %s: %w", s.Name, notificationID, err)
	}
	return nil
}

func emptyAsNull(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

func zeroAsNull(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// Levels of alarm, as recorded in escalations and in a step's state.
const (
	LevelAtRisk   = "at_risk"
	LevelBreached = "breached"
)

// Run ticks every interval until ctx ends, starting at once. The interval
// bounds how late an event is raised; the deadlines themselves come from
// the clock and the database, not from the timer.
func (x *Escalator) Run(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	x.RunTicks(ctx, ticker.C)
}

// RunTicks ticks once at once and then each time ticks delivers, until ctx
// ends, so that tests can drive the loop without waiting on real time. A
// failed tick is logged and the next one tries again: nothing is lost,
// because a step stays due until its event is committed.
func (x *Escalator) RunTicks(ctx context.Context, ticks <-chan time.Time) {
	for {
		if _, err := x.Tick(ctx); err != nil && ctx.Err() == nil {
			x.opts.Log.Warn("escalation tick failed; will retry", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}

// Tick raises every SLA event that is due at the clock's present time and
// returns how many it raised. A step that is not done becomes at risk when
// its at-risk time has come and breached once its deadline has passed; a
// step found already past its deadline (the service was down, or the notice
// arrived late) is breached without first being at risk, because warning
// that a deadline is near after it has gone helps nobody.
//
// Time is judged to the microsecond, PostgreSQL's resolution: a deadline
// is missed from the first microsecond after it.
func (x *Escalator) Tick(ctx context.Context) (int, error) {
	now := x.opts.Clock.Now().Truncate(time.Microsecond)
	total := 0
	for {
		n, err := x.raiseBatch(ctx, now)
		total += n
		if err != nil {
			return total, err
		}
		if n < x.opts.Batch {
			return total, nil
		}
	}
}

// dueStep is a step whose alarm is due, with what its event needs.
type dueStep struct {
	NotificationID string
	IncidentID     string
	Step           string
	RuleID         string
	DueAt          time.Time
	Recipient      events.Recipient
	// ForceCode is the force that sent the incident, told of a receipt
	// breach.
	ForceCode string
}

// level returns the alarm a step is due for at now.
func (d dueStep) level(now time.Time) string {
	if now.After(d.DueAt) {
		return LevelBreached
	}
	return LevelAtRisk
}

// raiseBatch raises the alarms of up to Batch due steps in one
// transaction. The rows are locked with SKIP LOCKED, so that replicas
// ticking at once share the work instead of raising the same event twice;
// a step's state changes in the same transaction as its event enters the
// outbox, so a crash raises either both or neither.
func (x *Escalator) raiseBatch(ctx context.Context, now time.Time) (int, error) {
	var raised []raisedEvent
	err := pgdb.InTx(ctx, x.pool, func(tx pgx.Tx) error {
		raised = raised[:0]
		due, err := lockDueSteps(ctx, tx, now, x.opts.Batch)
		if err != nil {
			return err
		}
		ref, book := x.opts.Reference(), x.opts.Contacts()
		for _, d := range due {
			told := whom{manager: book.Resolve(ref, d.Recipient)}
			if d.Step == events.StepReceipt {
				told.police = book.Police(d.ForceCode)
			}
			r, err := x.raise(ctx, tx, d, d.level(now), now, told)
			if err != nil {
				return err
			}
			raised = append(raised, r)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, r := range raised {
		x.opts.Log.Info("deadline alarm raised", zap.String("level", r.level), zap.String("step", r.step.Step),
			zap.String("notification_id", r.step.NotificationID), zap.String("recipient_kind", string(r.step.Recipient.Kind)),
			zap.String("contact_source", string(r.told.manager.Source)), zap.String("police_contact_source", string(r.told.police.Source)))
	}
	return len(raised), nil
}

// lockDueSteps finds and locks open steps whose at-risk time has come
// (still watching) or whose deadline has passed (watching or at risk). A
// deadline is missed only after due_at: a step done at due_at exactly is in
// time.
func lockDueSteps(ctx context.Context, tx pgx.Tx, now time.Time, limit int) ([]dueStep, error) {
	rows, err := tx.Query(ctx, `SELECT s.notification_id::text, n.incident_id::text, s.step, s.rule_id, s.due_at,
			n.recipient_kind, n.recipient_id, n.recipient_name, n.recipient_email, n.force_code
		FROM escalation.steps s JOIN escalation.notifications n USING (notification_id)
		WHERE s.done_at IS NULL
		  AND ((s.state = 'watching' AND s.at_risk_at <= $1) OR (s.state = 'at_risk' AND s.due_at < $1))
		ORDER BY s.at_risk_at, s.notification_id, s.step
		LIMIT $2
		FOR UPDATE OF s SKIP LOCKED`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("finding due steps: %w", err)
	}
	steps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dueStep, error) {
		var d dueStep
		var kind string
		var email, force pgtype.Text
		err := row.Scan(&d.NotificationID, &d.IncidentID, &d.Step, &d.RuleID, &d.DueAt,
			&kind, &d.Recipient.ID, &d.Recipient.Name, &email, &force)
		d.Recipient.Kind, d.Recipient.Email, d.ForceCode = events.RecipientKind(kind), email.String, force.String
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading due steps: %w", err)
	}
	return steps, nil
}

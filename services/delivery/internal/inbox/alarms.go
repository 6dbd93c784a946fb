package inbox

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel"
)

// onAlarm takes escalation's sla.at_risk or sla.breached and queues its
// messages to the manager contact the event names, and on a receipt breach
// to the police contact, by the e-mail channels that are on (contract.md
// section 5: escalation's manager contacts are told by the same channels).
// The alarm and its attempts are written in one transaction with the
// consumer's claim of the event, so a redelivered event is told once, and
// the dispatcher sends them as it sends the notices' prompts: retried with
// backoff, each message named from the event's id.
func (d *Deliverer) onAlarm(ctx context.Context, e cloudevent.Event, a events.SLAData) error {
	targets := d.alarmTargets(a)
	if len(targets) == 0 {
		return nil
	}
	queued := false
	err := d.outbox.InTx(ctx, d.pool, func(tx pgx.Tx) error {
		first, err := d.outbox.Claim(ctx, tx, Consumer, e.ID())
		if err != nil || !first {
			return err
		}
		queued, err = queueAlarm(ctx, tx, e, a, targets, d.clock.Now().UTC())
		return err
	})
	if err == nil && queued {
		d.log.Info("manager alarm queued", zap.String("event_id", e.ID()), zap.String("notification_id", a.NotificationID),
			zap.String("step", a.Step), zap.String("level", levelOf(e)), zap.Int("messages", len(targets)))
	}
	return err
}

// levelOf is the alarm level an SLA event's type names.
func levelOf(e cloudevent.Event) string {
	if events.Type(e.Type()) == events.SLABreached {
		return channel.LevelBreached
	}
	return channel.LevelAtRisk
}

// alarmRecord is the alarm as delivery keeps it: the event's data and its
// level, which the data does not hold (the event type does).
type alarmRecord struct {
	events.SLAData
	Level string `json:"level"`
}

func queueAlarm(ctx context.Context, tx pgx.Tx, e cloudevent.Event, a events.SLAData, targets []channel.Target, now time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO delivery.alarm (event_id, notification_id, received_at, data)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, e.ID(), a.NotificationID, now, alarmRecord{a, levelOf(e)})
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	for _, t := range targets {
		if _, err := tx.Exec(ctx, `INSERT INTO delivery.alarm_attempt (event_id, channel, address, next_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, e.ID(), t.Channel, t.Address, now); err != nil {
			return false, err
		}
	}
	return true, nil
}

// alarmTargets are the messages an alarm needs: to each contact it names
// that is an e-mail address, by SMTP and by Notify where each is on. An
// alarm is urgent: it ignores the hours of contacts.csv, which are the
// organisation's own, not its manager's.
func (d *Deliverer) alarmTargets(a events.SLAData) []channel.Target {
	var out []channel.Target
	seen := map[string]bool{}
	for _, address := range []string{a.ManagerContact, a.PoliceContact} {
		if !isBareEmail(address) || seen[strings.ToLower(address)] {
			continue
		}
		seen[strings.ToLower(address)] = true
		if d.channels.Email != nil {
			out = append(out, channel.Target{Channel: channel.Email, Address: address})
		}
		if d.channels.Notify != nil {
			out = append(out, channel.Target{Channel: channel.NotifyEmail, Address: address})
		}
	}
	return out
}

// isBareEmail reports whether s is an e-mail address alone; a contact that
// is a phone line is not one the e-mail channels can tell.
func isBareEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// alarmPrompt is what an alarm's message may say: the organisation, the
// step and level, the deadline and the link to the notice, nothing of the
// notice itself.
func (d *Deliverer) alarmPrompt(eventID string, a events.SLAData, level string) channel.Prompt {
	return channel.Prompt{NotificationID: a.NotificationID, IncidentID: a.IncidentID, Recipient: a.Recipient,
		RuleID: a.RuleID, DueAt: a.DueAt, Link: d.link(a.NotificationID),
		Alarm: &channel.Alarm{EventID: eventID, Level: level, Step: a.Step}}
}

// alarmAccepted records a provider's acceptance of an alarm's message.
func (d *Deliverer) alarmAccepted(ctx context.Context, a attempt, r channel.Receipt) error {
	_, err := d.pool.Exec(ctx, `UPDATE delivery.alarm_attempt SET state = 'accepted', accepted_at = $4, provider_id = $5,
		last_error = '' WHERE event_id = $1 AND channel = $2 AND address = $3 AND state = 'pending'`,
		a.key, a.target.Channel, a.target.Address, d.clock.Now().UTC(), r.ProviderID)
	if err == nil {
		d.log.Info("channel accepted the manager alarm", zap.String("event_id", a.key),
			zap.String("notification_id", a.notificationID()), zap.String("channel", a.target.Channel), zap.Int("attempt", a.attempts))
	}
	return err
}

// alarmGivenUp gives an alarm's message up. The alarm itself is already in
// the ledger as escalation's event; what is lost is only this message, so
// it is logged as an error for the people who run Lantern to act on.
func (d *Deliverer) alarmGivenUp(ctx context.Context, a attempt, reason string, log *zap.Logger) error {
	_, err := d.pool.Exec(ctx, `UPDATE delivery.alarm_attempt SET state = 'failed', last_error = $4
		WHERE event_id = $1 AND channel = $2 AND address = $3 AND state = 'pending'`,
		a.key, a.target.Channel, a.target.Address, reason)
	if err == nil {
		log.Error("channel gave up on a manager alarm", zap.String("event_id", a.key))
	}
	return err
}

package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/faults"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel"
)

// queue is one table of channel attempts: the notices' prompts, or the
// managers' alarms, each row named by its key column and a channel and
// address.
type queue struct {
	table, key string
}

var (
	notices = queue{table: "delivery.channel_attempt", key: "notification_id"}
	alarms  = queue{table: "delivery.alarm_attempt", key: "event_id"}
)

// sql writes the queue's table and key column into a statement.
func (q queue) sql(statement string) string {
	return strings.NewReplacer("{table}", q.table, "{key}", q.key).Replace(statement)
}

// attempt is one channel attempt taken for sending.
type attempt struct {
	q queue
	// key is the row's notification id, or for an alarm its event id.
	key      string
	target   channel.Target
	attempts int
	// providerID is the provider's id of a message sent whose receipt is
	// awaited (StatusChecker), empty otherwise.
	providerID string
	request    events.NotificationRequestedData
	raw        json.RawMessage
	// alarm is set on an alarm's attempt, and request is not.
	alarm *alarmRecord
}

// notificationID is the notice the attempt is about.
func (a attempt) notificationID() string {
	if a.alarm != nil {
		return a.alarm.NotificationID
	}
	return a.request.NotificationID
}

// Dispatch sends due channel attempts every poll until ctx ends. A pass
// that fails is logged and the next one tries again: every attempt is in
// PostgreSQL, so nothing is lost.
func (d *Deliverer) Dispatch(ctx context.Context, poll time.Duration) error {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		for {
			n, err := d.DispatchDue(ctx)
			if err != nil && ctx.Err() == nil {
				d.log.Warn("channel pass failed; will retry", zap.Error(err))
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// DispatchDue takes the attempts due now by the deliverer's clock, sends
// each, records the outcome, and reports how many it took.
func (d *Deliverer) DispatchDue(ctx context.Context) (int, error) {
	due, err := d.claim(ctx)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, a := range due {
		g.Go(func() error { return d.attempt(gctx, a) })
	}
	return len(due), g.Wait()
}

// claim leases the due attempts forward, so that another pass (or another
// replica) leaves them alone while they are in flight, and counts the try
// before it is made: a crash mid-send still uses up an attempt. Notices'
// prompts and managers' alarms are taken alike.
func (d *Deliverer) claim(ctx context.Context) ([]attempt, error) {
	now := d.clock.Now().UTC()
	r := d.channels.Retry
	var due []attempt
	err := pgdb.InTx(ctx, d.pool, func(tx pgx.Tx) error {
		var err error
		if due, err = claimFrom(ctx, tx, notices, "delivery.inbox", "request", now.Add(r.lease()), now, r.Batch); err != nil {
			return err
		}
		more, err := claimFrom(ctx, tx, alarms, "delivery.alarm", "data", now.Add(r.lease()), now, r.Batch)
		due = append(due, more...)
		return err
	})
	return due, err
}

// claimFrom leases the due attempts of one queue, each with the notice
// request or the alarm it sends, from the parent table and its column.
func claimFrom(ctx context.Context, tx pgx.Tx, q queue, parent, column string, lease, now time.Time, batch int) ([]attempt, error) {
	rows, err := tx.Query(ctx, q.sql(`UPDATE {table} a SET attempts = a.attempts + 1, next_at = $1
		FROM (SELECT {key}, channel, address FROM {table}
		      WHERE state = 'pending' AND next_at <= $2 ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED) due,
		     `+parent+` p
		WHERE a.{key} = due.{key} AND a.channel = due.channel AND a.address = due.address AND p.{key} = a.{key}
		RETURNING a.{key}::text, a.channel, a.address, a.secret_ref, a.attempts, a.provider_id, p.`+column),
		lease, now, batch)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (attempt, error) {
		a := attempt{q: q}
		err := row.Scan(&a.key, &a.target.Channel, &a.target.Address, &a.target.SecretRef, &a.attempts, &a.providerID, &a.raw)
		if err != nil {
			return a, err
		}
		if q == alarms {
			a.alarm = &alarmRecord{}
			return a, json.Unmarshal(a.raw, a.alarm)
		}
		return a, json.Unmarshal(a.raw, &a.request)
	})
}

func (d *Deliverer) sender(name string) channel.Sender {
	switch name {
	case channel.Email:
		return d.channels.Email
	case channel.NotifyEmail, channel.NotifySMS:
		return d.channels.Notify
	case channel.Webhook:
		return d.channels.Webhook
	}
	return nil
}

// attempt sends one prompt and records what happened.
func (d *Deliverer) attempt(ctx context.Context, a attempt) error {
	s := d.sender(a.target.Channel)
	if s == nil {
		// The channel was turned off since the notice was queued: it
		// can never accept, so the notice is failed rather than held.
		return d.recordFailure(ctx, a, channel.Permanent("the %s channel is no longer configured", a.target.Channel))
	}
	checker, awaitsReceipt := s.(channel.StatusChecker)
	if awaitsReceipt && a.providerID != "" {
		return d.checkReceipt(ctx, checker, a)
	}
	p, err := d.prompt(ctx, a)
	if err != nil {
		return err
	}
	sendCtx, cancel := context.WithTimeout(ctx, d.channels.Retry.Timeout)
	receipt, err := s.Send(sendCtx, p, a.target)
	cancel()
	if err != nil {
		return d.recordFailure(ctx, a, err)
	}
	faults.Crash(faults.ChannelAfterAccept)
	if awaitsReceipt {
		return d.recordSent(ctx, a, receipt)
	}
	return d.recordAccepted(ctx, a, receipt)
}

// checkReceipt reads the provider's receipt for a message sent: delivered
// is an acceptance, a permanent failure gives the channel up, and a
// temporary one sends again. Reading a receipt uses up no attempt.
func (d *Deliverer) checkReceipt(ctx context.Context, checker channel.StatusChecker, a attempt) error {
	checkCtx, cancel := context.WithTimeout(ctx, d.channels.Retry.Timeout)
	err := checker.Status(checkCtx, a.target, a.providerID)
	cancel()
	switch {
	case err == nil:
		return d.recordAccepted(ctx, a, channel.Receipt{ProviderID: a.providerID})
	case errors.Is(err, channel.ErrInProgress):
		return d.reschedule(ctx, a, "", d.channels.Retry.Backoff, true)
	case channel.IsPermanent(err):
		return d.recordFailure(ctx, a, err)
	}
	// A temporary failure of the message: send it again, under the same
	// reference, once the backoff has passed.
	if err := d.reschedule(ctx, a, err.Error(), 0, false); err != nil {
		return err
	}
	return d.recordFailure(ctx, a, err)
}

// recordSent keeps the provider's id of a message whose receipt is awaited
// and looks for the receipt after the first backoff.
func (d *Deliverer) recordSent(ctx context.Context, a attempt, r channel.Receipt) error {
	_, err := d.pool.Exec(ctx, a.q.sql(`UPDATE {table} SET provider_id = $4, next_at = $5, last_error = ''
		WHERE {key} = $1 AND channel = $2 AND address = $3 AND state = 'pending'`),
		a.key, a.target.Channel, a.target.Address, r.ProviderID, d.clock.Now().UTC().Add(d.channels.Retry.Backoff))
	return err
}

// reschedule looks at an attempt again after wait. keep leaves the
// provider's id for another receipt check, and gives back the attempt the
// claim counted; otherwise the id is dropped so the message is sent again.
func (d *Deliverer) reschedule(ctx context.Context, a attempt, reason string, wait time.Duration, keep bool) error {
	giveBack, providerID := 0, ""
	if keep {
		giveBack, providerID = 1, a.providerID
	}
	_, err := d.pool.Exec(ctx, a.q.sql(`UPDATE {table} SET provider_id = $4, next_at = $5, attempts = attempts - $6,
		last_error = $7 WHERE {key} = $1 AND channel = $2 AND address = $3 AND state = 'pending'`),
		a.key, a.target.Channel, a.target.Address, providerID, d.clock.Now().UTC().Add(wait), giveBack, truncate(reason, 300))
	return err
}

// prompt is what the channel may say. The stored request's personal
// fields are sealed; only the webhook, which carries the notice, has them
// opened, and only for the send.
func (d *Deliverer) prompt(ctx context.Context, a attempt) (channel.Prompt, error) {
	if a.alarm != nil {
		return d.alarmPrompt(a.key, a.alarm.SLAData, a.alarm.Level), nil
	}
	n := a.request
	p := channel.Prompt{NotificationID: n.NotificationID, IncidentID: n.IncidentID, Recipient: n.Recipient,
		RuleID: n.RuleID, DueAt: n.DueAt, Link: d.link(n.NotificationID)}
	if a.target.Channel != channel.Webhook {
		return p, nil
	}
	opened, _, err := d.sealer.OpenFields(ctx, n.IncidentID, a.raw)
	if err != nil {
		return channel.Prompt{}, fmt.Errorf("opening the notice for its webhook: %w", err)
	}
	p.Request = opened
	return p, nil
}

// lockNotice serialises the outcomes of one notice's channels, so that the
// last acceptance, whichever it is, sees every other one and announces the
// delivery exactly once.
func lockNotice(ctx context.Context, tx pgx.Tx, notificationID string) error {
	_, err := tx.Exec(ctx, `SELECT 1 FROM delivery.inbox WHERE notification_id = $1 FOR UPDATE`, notificationID)
	return err
}

func (d *Deliverer) recordAccepted(ctx context.Context, a attempt, r channel.Receipt) error {
	if a.alarm != nil {
		return d.alarmAccepted(ctx, a, r)
	}
	now := d.clock.Now().UTC()
	n := a.request
	err := d.outbox.InTx(ctx, d.pool, func(tx pgx.Tx) error {
		if err := lockNotice(ctx, tx, n.NotificationID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE delivery.channel_attempt SET state = 'accepted', accepted_at = $4, provider_id = $5,
			last_error = '' WHERE notification_id = $1 AND channel = $2 AND address = $3 AND state = 'pending'`,
			n.NotificationID, a.target.Channel, a.target.Address, now, r.ProviderID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		receipts, complete, err := acceptances(ctx, tx, n.NotificationID)
		if err != nil || !complete {
			return err
		}
		return d.announce(ctx, tx, n, now, receipts)
	})
	if err == nil {
		d.log.Info("channel accepted the notice", zap.String("notification_id", n.NotificationID),
			zap.String("channel", a.target.Channel), zap.Int("attempt", a.attempts))
	}
	return err
}

// acceptances lists a notice's accepted channels, and complete is true
// when every one of its channels has accepted.
func acceptances(ctx context.Context, tx pgx.Tx, notificationID string) ([]events.ChannelReceipt, bool, error) {
	rows, err := tx.Query(ctx, `SELECT channel, state, accepted_at, provider_id FROM delivery.channel_attempt
		WHERE notification_id = $1 ORDER BY channel, address`, notificationID)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	receipts := []events.ChannelReceipt{}
	complete := true
	for rows.Next() {
		var state string
		var accepted *time.Time
		var r events.ChannelReceipt
		if err := rows.Scan(&r.Channel, &state, &accepted, &r.ProviderID); err != nil {
			return nil, false, err
		}
		if state != "accepted" || accepted == nil {
			complete = false
			continue
		}
		r.AcceptedAt = accepted.UTC()
		receipts = append(receipts, r)
	}
	return receipts, complete, rows.Err()
}

// recordFailure schedules the next try, or gives the channel up once its
// attempts are spent or the provider refused for good. Giving up raises
// notification.failed, once per notice; the inbox copy stays.
func (d *Deliverer) recordFailure(ctx context.Context, a attempt, cause error) error {
	now := d.clock.Now().UTC()
	n := a.request
	r := d.channels.Retry
	reason := truncate(cause.Error(), 300)
	giveUp := channel.IsPermanent(cause) || a.attempts >= r.Attempts
	log := d.log.With(zap.String("notification_id", a.notificationID()), zap.String("channel", a.target.Channel),
		zap.Int("attempt", a.attempts), zap.String("error", reason))
	if !giveUp {
		_, err := d.pool.Exec(ctx, a.q.sql(`UPDATE {table} SET next_at = $4, last_error = $5
			WHERE {key} = $1 AND channel = $2 AND address = $3 AND state = 'pending'`),
			a.key, a.target.Channel, a.target.Address, now.Add(r.after(a.attempts)), reason)
		log.Warn("channel did not accept the message; will retry")
		return err
	}
	if a.alarm != nil {
		return d.alarmGivenUp(ctx, a, reason, log)
	}
	err := d.outbox.InTx(ctx, d.pool, func(tx pgx.Tx) error {
		if err := lockNotice(ctx, tx, n.NotificationID); err != nil {
			return err
		}
		var already bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM delivery.channel_attempt
			WHERE notification_id = $1 AND state = 'failed')`, n.NotificationID).Scan(&already); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE delivery.channel_attempt SET state = 'failed', last_error = $4
			WHERE notification_id = $1 AND channel = $2 AND address = $3 AND state = 'pending'`,
			n.NotificationID, a.target.Channel, a.target.Address, reason)
		if err != nil || tag.RowsAffected() == 0 || already {
			return err
		}
		return d.announceChannelFailure(ctx, tx, a, now, reason)
	})
	if err == nil {
		log.Error("channel gave up; notification.failed raised, the notice stays in the inbox")
	}
	return err
}

func (d *Deliverer) announceChannelFailure(ctx context.Context, tx pgx.Tx, a attempt, at time.Time, reason string) error {
	n := a.request
	data := events.NotificationFailedData{NotificationID: n.NotificationID, IncidentID: n.IncidentID, Recipient: n.Recipient,
		FailedAt: at, Attempts: a.attempts,
		Reason: fmt.Sprintf("the %s channel gave up after %d attempt(s): %s; the notice is in the recipient's inbox",
			a.target.Channel, a.attempts, reason)}
	return d.enqueue(ctx, tx, n.Recipient.Kind, cloudevent.Spec{
		ID:   d.IDs.Derive(n.NotificationID, string(events.NotificationFailed), "channel"),
		Type: events.NotificationFailed, Subject: n.NotificationID, IncidentID: n.IncidentID, Time: at, Data: data,
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

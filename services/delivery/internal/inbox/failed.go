package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
)

// ConsumerSpec is the delivery service's durable consumer: every
// notification.requested, with each request given up on announced as
// notification.failed.
func (d *Deliverer) ConsumerSpec(ackWait time.Duration) bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Consumer, Subjects: d.handlers.Subjects(), AckWait: ackWait,
		OnDeadLetter: d.Failed}
}

// Batch lets the consumer put up to size notices (0: bus's default) into
// their inboxes in one transaction.
func (d *Deliverer) Batch(size int) bus.Batch {
	return bus.Batch{Size: size, DB: d.pool, Seen: d.outbox.Seen(Consumer)}
}

// Failed is the consumer's dead-letter hook. For a notification.requested
// that was not delivered it raises notification.failed through the outbox,
// so that the ledger, the timeline and whoever watches deadlines learn that
// the recipient was not told. The event id is derived from the notification
// and the dead-lettered message, so a hook run twice for one dead letter
// raises one event, while a request redriven and dead-lettered again raises
// a second.
//
// A dead letter that names no notification (an unreadable message, another
// event type, data without valid ids) cannot be announced; the dead-letter
// stream alone records it, and `lantern dlq list` shows it.
func (d *Deliverer) Failed(ctx context.Context, dl bus.DeadLetter) error {
	log := d.log.With(zap.String("consumer", dl.Consumer), zap.Uint64("stream_seq", dl.StreamSeq))
	if dl.Event == nil || events.Type(dl.Event.Type()) != events.NotificationRequested {
		// A manager's alarm that kept failing is in the ledger as
		// escalation's event already; only its e-mail is lost.
		log.Warn("dead letter is not a readable notification request; left to the dead-letter stream")
		return nil
	}
	data, ok := failureData(*dl.Event, dl, d.clock.Now().UTC())
	if !ok {
		log.Warn("dead-lettered request names no valid notification; left to the dead-letter stream",
			zap.String("event_id", dl.Event.ID()))
		return nil
	}
	raised := false
	err := d.outbox.InTx(ctx, d.pool, func(tx pgx.Tx) error {
		delivered, err := d.isDelivered(ctx, tx, data.NotificationID)
		if err != nil || delivered {
			return err
		}
		raised = true
		return d.announceFailure(ctx, tx, data, dl.StreamSeq)
	})
	if err != nil {
		return fmt.Errorf("announcing failed notification %s: %w", data.NotificationID, err)
	}
	if raised {
		log.Error("notice not delivered; notification.failed raised", zap.String("notification_id", data.NotificationID),
			zap.String("recipient_kind", string(data.Recipient.Kind)))
	}
	return nil
}

// requestIDs is the part of a notification.requested that a failure
// announcement repeats, read leniently because the request may be the very
// thing that is wrong.
type requestIDs struct {
	NotificationID string           `json:"notification_id"`
	IncidentID     string           `json:"incident_id"`
	Recipient      events.Recipient `json:"recipient"`
}

// failureData builds the announcement of a dead-lettered request, and
// reports false when the request lacks what the announcement must carry.
// The recipient's address is dropped if it is not one the schema accepts.
func failureData(e cloudevent.Event, dl bus.DeadLetter, at time.Time) (events.NotificationFailedData, bool) {
	var ids requestIDs
	if err := json.Unmarshal(e.Data(), &ids); err != nil {
		return events.NotificationFailedData{}, false
	}
	data := events.NotificationFailedData{NotificationID: ids.NotificationID, IncidentID: ids.IncidentID,
		Recipient: ids.Recipient, FailedAt: at, Reason: failureReason(e, dl), Attempts: int(dl.Attempts)}
	if !isUUID(data.NotificationID) || !isUUID(data.IncidentID) {
		return events.NotificationFailedData{}, false
	}
	if validFailure(data) {
		return data, true
	}
	data.Recipient.Email = ""
	return data, validFailure(data)
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

func validFailure(data events.NotificationFailedData) bool {
	raw, err := json.Marshal(data)
	return err == nil && eventschema.ValidateData(events.NotificationFailed, raw) == nil
}

// failureReason says what went wrong in words for the people who fix it,
// built only from Lantern's own facts: never the handler's error text, which
// may quote the notice.
func failureReason(e cloudevent.Event, dl bus.DeadLetter) string {
	cause := "delivery kept failing"
	if eventschema.ValidateData(events.NotificationRequested, e.Data()) != nil {
		cause = "the request does not match its schema"
	}
	return fmt.Sprintf("%s; dead-lettered by consumer %s after %d attempt(s) (events stream sequence %d); "+
		"fix the cause, then put it back with lantern dlq redrive", cause, dl.Consumer, dl.Attempts, dl.StreamSeq)
}

func (d *Deliverer) isDelivered(ctx context.Context, tx pgx.Tx, notificationID string) (bool, error) {
	var delivered bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM delivery.inbox WHERE notification_id = $1)`, notificationID).
		Scan(&delivered)
	if err != nil {
		return false, fmt.Errorf("checking inbox: %w", err)
	}
	return delivered, nil
}

func (d *Deliverer) announceFailure(ctx context.Context, tx pgx.Tx, data events.NotificationFailedData, streamSeq uint64) error {
	return d.enqueue(ctx, tx, data.Recipient.Kind, cloudevent.Spec{
		ID:   d.IDs.Derive(data.NotificationID, string(events.NotificationFailed), strconv.FormatUint(streamSeq, 10)),
		Type: events.NotificationFailed, Subject: data.NotificationID, IncidentID: data.IncidentID,
		Time: data.FailedAt, Data: data,
	})
}

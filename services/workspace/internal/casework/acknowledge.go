package casework

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

// Acknowledge records that a person at the recipient has the notice, and
// emits notification.acknowledged. It is idempotent: the first
// acknowledgement stands, and a second, by anyone, returns it unchanged
// with created false and emits nothing.
func (s *Service) Acknowledge(ctx context.Context, c Caller, notificationID string) (store.Acknowledgement, bool, error) {
	n, err := s.ownNotice(ctx, c, authz.Acknowledge, notificationID)
	if err != nil {
		return store.Acknowledgement{}, false, err
	}
	ack := store.Acknowledgement{NotificationID: n.NotificationID, IncidentID: n.IncidentID,
		At: s.clock.Now().UTC(), UserID: c.User.ID, Role: string(c.User.Role), UserName: c.User.Name,
		// A person's action: an id no one can know before it is taken.
		EventID: cloudevent.RandomID()}
	var created bool
	err = pgdb.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := store.RememberUser(ctx, tx, c.User.ID, c.User.Name, string(c.User.Role), c.User.Org.String(), ack.At); err != nil {
			return err
		}
		created, err = store.InsertAcknowledgement(ctx, tx, ack)
		if err != nil || !created {
			return err
		}
		return s.announceAck(ctx, tx, n, ack, c)
	})
	if err != nil || created {
		return ack, created, err
	}
	stored, err := store.NoticeByID(ctx, s.pool, n.NotificationID)
	if err != nil {
		return store.Acknowledgement{}, false, err
	}
	return *stored.Ack, false, nil
}

func (s *Service) announceAck(ctx context.Context, tx pgx.Tx, n store.Notice, ack store.Acknowledgement, c Caller) error {
	e, err := cloudevent.New(cloudevent.Spec{ID: ack.EventID, Type: events.NotificationAcknowledged,
		Source: events.SourceWorkspace, Subject: n.NotificationID, IncidentID: n.IncidentID, Actor: c.User.Actor(),
		Time: ack.At, Data: events.NotificationAcknowledgedData{NotificationID: n.NotificationID, IncidentID: n.IncidentID,
			Recipient: n.Recipient, AcknowledgedAt: ack.At, AcknowledgedBy: c.User.Person()}})
	if err != nil {
		return err
	}
	subject, err := events.Subject(events.NotificationAcknowledged, n.Recipient.Kind)
	if err != nil {
		return err
	}
	return s.outbox.Enqueue(ctx, tx, subject, e)
}

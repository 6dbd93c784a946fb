package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/contacts"
)

// Actor is the actor extension on the escalation service's events.
const Actor = "service:escalation"

// raisedEvent is what one raise did, for the log after commit.
type raisedEvent struct {
	step  dueStep
	level string
	told  whom
}

// whom an alarm tells: the recipient organisation's manager and, for a
// receipt breach, the police force that sent the notice late.
type whom struct {
	manager, police contacts.Contact
}

// EventID returns the id of the SLA event of a notice's step at a level.
// It is derived from the three with the escalation service's key, so
// however often the alarm is raised (two replicas, a retried transaction)
// it is one event, and nobody who sees the notice can publish first with
// its id to have the broker drop the alarm as a duplicate.
func EventID(ids cloudevent.IDs, notificationID, step, level string) string {
	return ids.Derive(notificationID, step, level)
}

// raise puts the step's SLA event in the outbox, records whom it warns and
// moves the step to the level, all inside tx.
func (x *Escalator) raise(ctx context.Context, tx pgx.Tx, d dueStep, level string, now time.Time, told whom) (raisedEvent, error) {
	e, subject, err := slaEvent(x.opts.IDs, d, level, now, told)
	if err != nil {
		return raisedEvent{}, err
	}
	if err := x.outbox.Enqueue(ctx, tx, subject, e); err != nil {
		return raisedEvent{}, err
	}
	if err := recordEscalation(ctx, tx, e.ID(), d, level, now, told); err != nil {
		return raisedEvent{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE escalation.steps SET state = $3 WHERE notification_id = $1 AND step = $2`,
		d.NotificationID, d.Step, level); err != nil {
		return raisedEvent{}, fmt.Errorf("moving %s step of %s to %s: %w", d.Step, d.NotificationID, level, err)
	}
	return raisedEvent{step: d, level: level, told: told}, nil
}

// slaEvent builds the SLA event for a step at a level and its subject.
func slaEvent(ids cloudevent.IDs, d dueStep, level string, now time.Time, told whom) (cloudevent.Event, string, error) {
	t := events.SLAAtRisk
	if level == LevelBreached {
		t = events.SLABreached
	}
	subject, err := events.Subject(t, d.Recipient.Kind)
	if err != nil {
		return cloudevent.Event{}, "", err
	}
	e, err := cloudevent.New(cloudevent.Spec{
		ID: EventID(ids, d.NotificationID, d.Step, level), Type: t, Source: events.SourceEscalation,
		Subject: d.NotificationID, IncidentID: d.IncidentID, Actor: Actor, Time: now,
		Data: events.SLAData{NotificationID: d.NotificationID, IncidentID: d.IncidentID, Recipient: d.Recipient,
			RuleID: d.RuleID, Step: d.Step, DueAt: d.DueAt.UTC(), ObservedAt: now.UTC(), ManagerContact: told.manager.Address,
			PoliceContact: told.police.Address},
	})
	return e, subject, err
}

// recordEscalation keeps the record that the recipient's manager was told.
func recordEscalation(ctx context.Context, tx pgx.Tx, eventID string, d dueStep, level string, now time.Time, told whom) error {
	contact := told.manager
	_, err := tx.Exec(ctx, `INSERT INTO escalation.escalations (event_id, notification_id, step, level, due_at,
		observed_at, manager_name, manager_contact, contact_source, police_contact) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT DO NOTHING`,
		eventID, d.NotificationID, d.Step, level, d.DueAt, now, emptyAsNull(contact.Name), emptyAsNull(contact.Address),
		string(contact.Source), emptyAsNull(told.police.Address))
	if err != nil {
		return fmt.Errorf("recording %s escalation of %s: %w", level, d.NotificationID, err)
	}
	return nil
}

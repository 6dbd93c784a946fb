package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// Subjects are the subjects the escalation service consumes.
func Subjects() []string {
	return []string{"sg.notification.requested.>", "sg.notification.delivered.>",
		"sg.notification.acknowledged.>", "sg.notification.failed.>", "sg.triage.decided"}
}

// Handle is a bus.Handler for notification.requested, .delivered,
// .acknowledged, .failed and triage.decided. It records the event's fact and plans
// the notice's steps again in one transaction with the inbox claim, so a
// redelivered event changes nothing. Other types are ignored.
func (x *Escalator) Handle(ctx context.Context, e cloudevent.Event) error {
	incidentID, apply, err := x.applier(e)
	if err != nil || apply == nil {
		return err
	}
	return pgdb.InTx(ctx, x.pool, func(tx pgx.Tx) error {
		if err := lockIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		first, err := x.outbox.Claim(ctx, tx, Consumer, e.ID())
		if err != nil || !first {
			return err
		}
		return apply(ctx, tx)
	})
}

// applyFunc applies one event's fact inside a transaction.
type applyFunc func(ctx context.Context, tx pgx.Tx) error

// applier decodes e and returns its incident and how to apply it, or a nil
// applyFunc for a type the service does not watch.
func (x *Escalator) applier(e cloudevent.Event) (string, applyFunc, error) {
	switch events.Type(e.Type()) {
	case events.NotificationRequested:
		n, err := decode[events.NotificationRequestedData](e)
		return n.IncidentID, func(ctx context.Context, tx pgx.Tx) error { return x.onRequested(ctx, tx, n) }, err
	case events.NotificationDelivered:
		d, err := decode[events.NotificationDeliveredData](e)
		return d.IncidentID, func(ctx context.Context, tx pgx.Tx) error {
			return x.onTime(ctx, tx, columnDelivered, d.NotificationID, d.IncidentID, d.DeliveredAt)
		}, err
	case events.NotificationAcknowledged:
		a, err := decode[events.NotificationAcknowledgedData](e)
		return a.IncidentID, func(ctx context.Context, tx pgx.Tx) error {
			return x.onTime(ctx, tx, columnAcknowledged, a.NotificationID, a.IncidentID, a.AcknowledgedAt)
		}, err
	case events.NotificationFailed:
		d, err := decode[events.NotificationFailedData](e)
		return d.IncidentID, func(ctx context.Context, tx pgx.Tx) error {
			return x.onTime(ctx, tx, columnFailed, d.NotificationID, d.IncidentID, d.FailedAt)
		}, err
	case events.TriageDecided:
		t, err := decode[events.TriageDecidedData](e)
		return t.IncidentID, func(ctx context.Context, tx pgx.Tx) error { return x.onTriage(ctx, tx, t) }, err
	}
	return "", nil, nil
}

// decode checks an event's data against its schema and decodes it. Data
// that fails either can never succeed, so it goes to the dead-letter stream.
func decode[T any](e cloudevent.Event) (T, error) {
	var v T
	if err := eventschema.ValidateData(events.Type(e.Type()), e.Data()); err != nil {
		return v, bus.Permanent(fmt.Errorf("event %s: %w", e.ID(), err))
	}
	if err := cloudevent.DecodeData(e, &v); err != nil {
		return v, bus.Permanent(fmt.Errorf("event %s: %w", e.ID(), err))
	}
	return v, nil
}

func (x *Escalator) onRequested(ctx context.Context, tx pgx.Tx, n events.NotificationRequestedData) error {
	if err := recordRequest(ctx, tx, n); err != nil {
		return err
	}
	return x.replan(ctx, tx, n.NotificationID)
}

func (x *Escalator) onTime(ctx context.Context, tx pgx.Tx, column, notificationID, incidentID string, at time.Time) error {
	if err := recordTime(ctx, tx, column, notificationID, incidentID, at); err != nil {
		return err
	}
	return x.replan(ctx, tx, notificationID)
}

func (x *Escalator) onTriage(ctx context.Context, tx pgx.Tx, t events.TriageDecidedData) error {
	ids, err := recordTriage(ctx, tx, t.IncidentID, t.DecidedAt)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := x.replan(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// replan plans a notice's steps from everything now known of it and saves
// them. Planning from the whole record, rather than from the one event,
// is what makes the order of events irrelevant.
func (x *Escalator) replan(ctx context.Context, tx pgx.Tx, notificationID string) error {
	f, ok, err := lockFacts(ctx, tx, notificationID)
	if err != nil || !ok {
		return err
	}
	for _, s := range x.opts.Rules.plan(f) {
		if err := saveStep(ctx, tx, notificationID, s); err != nil {
			return err
		}
	}
	return nil
}

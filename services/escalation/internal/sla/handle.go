package sla

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// Subjects are the subjects the escalation service consumes, derived from
// the types its handlers take.
func Subjects() []string { return (&Escalator{}).mux().Subjects() }

// Batch lets the consumer apply up to size events (0: bus's default) in one
// transaction. Each event still takes its incident's lock, held then until
// the batch commits.
func (x *Escalator) Batch(size int) bus.Batch {
	return bus.Batch{Size: size, DB: x.pool, Seen: x.outbox.Seen(Consumer)}
}

// Handle is a bus.Handler for notification.requested, .delivered,
// .acknowledged, .failed and triage.decided. It records the event's fact and plans
// the notice's steps again in one transaction with the inbox claim, so a
// redelivered event changes nothing. Other types are ignored.
func (x *Escalator) Handle(ctx context.Context, e cloudevent.Event) error {
	return x.handlers.Handle(ctx, e)
}

func (x *Escalator) mux() *bus.Mux {
	m := bus.NewMux()
	bus.On(m, events.NotificationRequested, func(ctx context.Context, e cloudevent.Event, n events.NotificationRequestedData) error {
		return x.apply(ctx, e, n.IncidentID, func(tx pgx.Tx) error { return x.onRequested(ctx, tx, n) })
	})
	bus.On(m, events.NotificationDelivered, func(ctx context.Context, e cloudevent.Event, d events.NotificationDeliveredData) error {
		return x.apply(ctx, e, d.IncidentID, func(tx pgx.Tx) error {
			return x.onTime(ctx, tx, columnDelivered, d.NotificationID, d.IncidentID, d.DeliveredAt)
		})
	})
	bus.On(m, events.NotificationAcknowledged, func(ctx context.Context, e cloudevent.Event, a events.NotificationAcknowledgedData) error {
		return x.apply(ctx, e, a.IncidentID, func(tx pgx.Tx) error {
			return x.onTime(ctx, tx, columnAcknowledged, a.NotificationID, a.IncidentID, a.AcknowledgedAt)
		})
	})
	bus.On(m, events.NotificationFailed, func(ctx context.Context, e cloudevent.Event, d events.NotificationFailedData) error {
		return x.apply(ctx, e, d.IncidentID, func(tx pgx.Tx) error {
			return x.onTime(ctx, tx, columnFailed, d.NotificationID, d.IncidentID, d.FailedAt)
		})
	})
	bus.On(m, events.TriageDecided, func(ctx context.Context, e cloudevent.Event, t events.TriageDecidedData) error {
		return x.apply(ctx, e, t.IncidentID, func(tx pgx.Tx) error { return x.onTriage(ctx, tx, t) })
	})
	return m
}

// apply runs one event's fact in a transaction that holds the incident's
// lock and claims the event, so that a redelivery changes nothing.
func (x *Escalator) apply(ctx context.Context, e cloudevent.Event, incidentID string, fact func(tx pgx.Tx) error) error {
	return pgdb.InTx(ctx, x.pool, func(tx pgx.Tx) error {
		if err := lockIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		first, err := x.outbox.Claim(ctx, tx, Consumer, e.ID())
		if err != nil || !first {
			return err
		}
		return fact(tx)
	})
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

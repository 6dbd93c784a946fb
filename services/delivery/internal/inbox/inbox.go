// Package inbox delivers each requested notice into its recipient's inbox
// in PostgreSQL, sends its prompts by the outbound channels and announces
// the delivery; it also sends escalation's alarms to the managers they name
// by the same channels.
package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/delivery/migrations"
)

// Schema is the delivery service's PostgreSQL schema.
const Schema = "delivery"

// Consumer is the delivery service's durable consumer name.
const Consumer = "delivery"

// Deliverer writes notices into inboxes.
type Deliverer struct {
	// IDs derives the ids of the deliverer's events with its key: they
	// are derived from the notification id, which every consumer of
	// notification.requested sees.
	IDs    cloudevent.IDs
	pool   *pgxpool.Pool
	outbox *outbox.Store
	clock  clock.Clock
	log    *zap.Logger
	// sealer seals the personal fields of each stored request.
	sealer *sealed.Sealer
	// handlers take notification.requested, validated and decoded.
	handlers *bus.Mux
	// channels are the outbound channels besides the inbox.
	channels Channels
}

// New returns a deliverer that stores requests sealed with sealer.
func New(pool *pgxpool.Pool, sealer *sealed.Sealer, c clock.Clock, log *zap.Logger) *Deliverer {
	d := &Deliverer{pool: pool, outbox: outbox.New(Schema).WithSealer(sealer), sealer: sealer, clock: c, log: log}
	d.UseChannels(Channels{})
	d.handlers = d.mux()
	return d
}

// Outbox is the deliverer's outbox, for the relay.
func (d *Deliverer) Outbox() *outbox.Store { return d.outbox }

// Migrate brings the schema up to date.
func (d *Deliverer) Migrate(ctx context.Context) error {
	return d.outbox.MigrateService(ctx, d.pool, migrations.FS)
}

// Handle is a bus.Handler for notification.requested.
func (d *Deliverer) Handle(ctx context.Context, e cloudevent.Event) error {
	return d.handlers.Handle(ctx, e)
}

func (d *Deliverer) mux() *bus.Mux {
	m := bus.NewMux()
	bus.On(m, events.NotificationRequested, d.onRequested)
	bus.On(m, events.SLAAtRisk, d.onAlarm)
	bus.On(m, events.SLABreached, d.onAlarm)
	return m
}

func (d *Deliverer) onRequested(ctx context.Context, e cloudevent.Event, n events.NotificationRequestedData) error {
	delivered := false
	err := d.outbox.InTx(ctx, d.pool, func(tx pgx.Tx) error {
		first, err := d.outbox.Claim(ctx, tx, Consumer, e.ID())
		if err != nil || !first {
			return err
		}
		delivered, err = d.deliver(ctx, tx, n, e.Data())
		return err
	})
	if err == nil && delivered {
		d.log.Info("notice delivered", zap.String("notification_id", n.NotificationID), zap.String("recipient_kind", string(n.Recipient.Kind)))
	}
	return err
}

func (d *Deliverer) deliver(ctx context.Context, tx pgx.Tx, n events.NotificationRequestedData, raw json.RawMessage) (bool, error) {
	now := d.clock.Now().UTC()
	// The stored request keeps its shape, its personal strings sealed.
	stored, err := d.sealer.In(tx).SealFields(ctx, n.IncidentID, raw)
	if err != nil {
		return false, fmt.Errorf("sealing the request: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO delivery.inbox (notification_id, incident_id, rule_id, policy_version,
		recipient_kind, recipient_id, recipient_name, child_ids, profile, calendar, lawful_basis, due_at, requested_at,
		delivered_at, request) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)
		ON CONFLICT (notification_id) DO NOTHING`,
		n.NotificationID, n.IncidentID, n.RuleID, n.PolicyVersion, string(n.Recipient.Kind), n.Recipient.ID, n.Recipient.Name,
		n.ChildIDs, n.Profile, n.Calendar, n.LawfulBasis, n.DueAt, n.RequestedAt, now, stored)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	queued, err := d.queue(ctx, tx, n, now)
	if err != nil || queued > 0 {
		// The last channel to accept announces the delivery.
		return false, err
	}
	return true, d.announce(ctx, tx, n, now, nil)
}

// announce raises notification.delivered once the notice is in the inbox
// and every channel has accepted it. Its id comes from the notification, so
// announcing twice raises one event.
func (d *Deliverer) announce(ctx context.Context, tx pgx.Tx, n events.NotificationRequestedData, at time.Time, receipts []events.ChannelReceipt) error {
	return d.enqueue(ctx, tx, n.Recipient.Kind, cloudevent.Spec{
		ID: d.IDs.Derive(n.NotificationID, string(events.NotificationDelivered)), Type: events.NotificationDelivered,
		Subject: n.NotificationID, IncidentID: n.IncidentID, Time: at,
		Data: events.NotificationDeliveredData{NotificationID: n.NotificationID, IncidentID: n.IncidentID,
			Recipient: n.Recipient, DeliveredAt: at, Channel: "inbox", DueAt: n.DueAt, Channels: receipts},
	})
}

// enqueue records one of the delivery service's events about a notice to a
// recipient of kind in tx's outbox, on the subject of its type and kind;
// spec gives all but the source and actor, which are the service's.
func (d *Deliverer) enqueue(ctx context.Context, tx pgx.Tx, kind events.RecipientKind, spec cloudevent.Spec) error {
	spec.Source, spec.Actor = events.SourceDelivery, "service:delivery"
	e, err := cloudevent.New(spec)
	if err != nil {
		return err
	}
	subject, err := events.Subject(spec.Type, kind)
	if err != nil {
		return err
	}
	return d.outbox.Enqueue(ctx, tx, subject, e)
}

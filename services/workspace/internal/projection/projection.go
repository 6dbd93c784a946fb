// Package projection builds the workspace's view of notices by consuming
// events: each notice requested, its delivery, its acknowledgement and the
// MASH's triage decision. Each event is applied once, recorded in the
// workspace's inbox in the same transaction, so a redelivery changes
// nothing and the whole view can be rebuilt by replaying the stream.
package projection

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

// Consumer is the workspace's durable consumer name.
const Consumer = "workspace"

// Subjects are the events the projection is built from. The workspace's
// own acknowledgements and decisions are among them, so that a rebuilt
// projection has them too.
func Subjects() []string {
	return []string{"sg.notification.requested.>", "sg.notification.delivered.>",
		"sg.notification.acknowledged.>", "sg.triage.decided"}
}

// Projector applies events to the projection.
type Projector struct {
	pool   *pgxpool.Pool
	outbox *outbox.Store
}

// New returns a projector that records consumed events in ob's inbox.
func New(pool *pgxpool.Pool, ob *outbox.Store) *Projector {
	return &Projector{pool: pool, outbox: ob}
}

// Handle is a bus.Handler for the projection's events.
func (p *Projector) Handle(ctx context.Context, e cloudevent.Event) error {
	t := events.Type(e.Type())
	apply, ok := p.appliers()[t]
	if !ok {
		return nil
	}
	if err := eventschema.ValidateData(t, e.Data()); err != nil {
		return bus.Permanent(fmt.Errorf("event %s: %w", e.ID(), err))
	}
	data, _ := events.NewData(t)
	if err := cloudevent.DecodeData(e, data); err != nil {
		return bus.Permanent(err)
	}
	return pgdb.InTx(ctx, p.pool, func(tx pgx.Tx) error {
		first, err := p.outbox.Claim(ctx, tx, Consumer, e.ID())
		if err != nil || !first {
			return err
		}
		return apply(ctx, tx, data)
	})
}

type applier func(ctx context.Context, tx pgx.Tx, data any) error

func (p *Projector) appliers() map[events.Type]applier {
	return map[events.Type]applier{
		events.NotificationRequested: func(ctx context.Context, tx pgx.Tx, data any) error {
			return applyRequested(ctx, tx, *data.(*events.NotificationRequestedData))
		},
		events.NotificationDelivered: func(ctx context.Context, tx pgx.Tx, data any) error {
			return store.InsertDelivery(ctx, tx, *data.(*events.NotificationDeliveredData))
		},
		events.NotificationAcknowledged: func(ctx context.Context, tx pgx.Tx, data any) error {
			a := data.(*events.NotificationAcknowledgedData)
			_, err := store.InsertAcknowledgement(ctx, tx, store.Acknowledgement{NotificationID: a.NotificationID,
				IncidentID: a.IncidentID, At: a.AcknowledgedAt, UserID: a.AcknowledgedBy.UserID, Role: a.AcknowledgedBy.Role,
				EventID: cloudevent.DeriveID(a.NotificationID, "acknowledged")})
			return err
		},
		events.TriageDecided: func(ctx context.Context, tx pgx.Tx, data any) error {
			d := data.(*events.TriageDecidedData)
			_, err := store.InsertTriage(ctx, tx, store.TriageDecision{IncidentID: d.IncidentID, NotificationID: d.NotificationID,
				RAG: d.RAG, DefaultRAG: d.DefaultRAG, RAGReason: d.RAGReason, Decision: d.Decision, DecidedAt: d.DecidedAt,
				UserID: d.DecidedBy.UserID, Role: d.DecidedBy.Role, EventID: cloudevent.DeriveID(d.IncidentID, "triage")})
			return err
		},
	}
}

// applyRequested stores the notice and, for a full MASH notice, indexes its
// people for the MASH's history of earlier incidents.
func applyRequested(ctx context.Context, tx pgx.Tx, n events.NotificationRequestedData) error {
	content, err := notice.Decode(n.Notice)
	if err != nil {
		return bus.Permanent(err)
	}
	stored, err := store.InsertNotice(ctx, tx, n, content.OccurredAt)
	if err != nil || !stored {
		return err
	}
	if n.Recipient.Kind != events.KindMASH || n.Profile != notice.ProfileA {
		return nil
	}
	return store.InsertMASHPeople(ctx, tx, n, content.OccurredAt, people(content))
}

func people(c notice.Content) []store.Person {
	var out []store.Person
	for _, ch := range c.Children {
		out = append(out, store.Person{PersonID: ch.PersonID, NameKey: notice.NameKey(ch.Name),
			DateOfBirth: ch.DateOfBirth, NHSNumber: ch.NHSNumber})
	}
	for _, a := range c.Adults {
		out = append(out, store.Person{PersonID: a.PersonID, NameKey: notice.NameKey(a.Name), DateOfBirth: a.DateOfBirth})
	}
	return out
}

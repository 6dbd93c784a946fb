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
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

// Consumer is the workspace's durable consumer name.
const Consumer = "workspace"

// Subjects are the events the projection is built from. The workspace's
// own acknowledgements and decisions are among them, so that a rebuilt
// projection has them too.
func Subjects() []string { return (&Projector{}).mux().Subjects() }

// Projector applies events to the projection.
type Projector struct {
	pool   *pgxpool.Pool
	outbox *outbox.Store
	// sealer seals each stored notice's personal strings; matchKey keys
	// the hashes the MASH's people are matched by, so that the index
	// holds no name, date of birth or NHS number.
	sealer   *sealed.Sealer
	matchKey []byte
	// handlers take each event type, validated and decoded, to its applier.
	handlers *bus.Mux
}

// New returns a projector that records consumed events in ob's inbox,
// sealing notices with sealer and matching people by hashes keyed with
// matchKey.
func New(pool *pgxpool.Pool, ob *outbox.Store, sealer *sealed.Sealer, matchKey []byte) *Projector {
	p := &Projector{pool: pool, outbox: ob, sealer: sealer, matchKey: matchKey}
	p.handlers = p.mux()
	return p
}

// Handle is a bus.Handler for the projection's events.
func (p *Projector) Handle(ctx context.Context, e cloudevent.Event) error {
	return p.handlers.Handle(ctx, e)
}

func (p *Projector) mux() *bus.Mux {
	m := bus.NewMux()
	bus.On(m, events.NotificationRequested, func(ctx context.Context, e cloudevent.Event, n events.NotificationRequestedData) error {
		return p.apply(ctx, e, func(tx pgx.Tx) error { return p.applyRequested(ctx, tx, n) })
	})
	bus.On(m, events.NotificationDelivered, func(ctx context.Context, e cloudevent.Event, d events.NotificationDeliveredData) error {
		return p.apply(ctx, e, func(tx pgx.Tx) error { return store.InsertDelivery(ctx, tx, d) })
	})
	bus.On(m, events.NotificationAcknowledged, func(ctx context.Context, e cloudevent.Event, a events.NotificationAcknowledgedData) error {
		return p.apply(ctx, e, func(tx pgx.Tx) error {
			_, err := store.InsertAcknowledgement(ctx, tx, store.Acknowledgement{NotificationID: a.NotificationID,
				IncidentID: a.IncidentID, At: a.AcknowledgedAt, UserID: a.AcknowledgedBy.UserID, Role: a.AcknowledgedBy.Role,
				EventID: e.ID()})
			return err
		})
	})
	bus.On(m, events.TriageDecided, func(ctx context.Context, e cloudevent.Event, d events.TriageDecidedData) error {
		return p.apply(ctx, e, func(tx pgx.Tx) error {
			_, err := store.InsertTriage(ctx, tx, store.TriageDecision{IncidentID: d.IncidentID, NotificationID: d.NotificationID,
				RAG: d.RAG, DefaultRAG: d.DefaultRAG, RAGReason: d.RAGReason, Decision: d.Decision, DecidedAt: d.DecidedAt,
				UserID: d.DecidedBy.UserID, Role: d.DecidedBy.Role, EventID: e.ID()})
			return err
		})
	})
	return m
}

// Batch lets the consumer project up to size events (0: bus's default) in
// one transaction.
func (p *Projector) Batch(size int) bus.Batch {
	return bus.Batch{Size: size, DB: p.pool, Seen: p.outbox.Seen(Consumer)}
}

// apply runs one event's change in a transaction that claims the event, so
// that a redelivery changes nothing.
func (p *Projector) apply(ctx context.Context, e cloudevent.Event, change func(tx pgx.Tx) error) error {
	return pgdb.InTx(ctx, p.pool, func(tx pgx.Tx) error {
		first, err := p.outbox.Claim(ctx, tx, Consumer, e.ID())
		if err != nil || !first {
			return err
		}
		return change(tx)
	})
}

// applyRequested stores the notice, its personal strings sealed, and, for a
// full MASH notice, indexes its people (by keyed hashes) for the MASH's
// history of earlier incidents.
func (p *Projector) applyRequested(ctx context.Context, tx pgx.Tx, n events.NotificationRequestedData) error {
	content, err := notice.Decode(n.Notice)
	if err != nil {
		return bus.Permanent(err)
	}
	if n.Notice, err = p.sealer.In(tx).SealFields(ctx, n.IncidentID, n.Notice); err != nil {
		return fmt.Errorf("sealing notice %s: %w", n.NotificationID, err)
	}
	stored, err := store.InsertNotice(ctx, tx, n, content.OccurredAt)
	if err != nil || !stored {
		return err
	}
	if n.Recipient.Kind != events.KindMASH || n.Profile != events.ProfileA {
		return nil
	}
	return store.InsertMASHPeople(ctx, tx, n, content.OccurredAt, p.people(content))
}

func (p *Projector) people(c notice.Content) []store.Person {
	var out []store.Person
	for _, ch := range c.Children {
		out = append(out, store.Person{PersonID: ch.PersonID, NameKey: p.match("name", notice.NameKey(ch.Name)),
			DateOfBirth: p.match("date_of_birth", ch.DateOfBirth), NHSNumber: p.match("nhs_number", ch.NHSNumber)})
	}
	for _, a := range c.Adults {
		out = append(out, store.Person{PersonID: a.PersonID, NameKey: p.match("name", notice.NameKey(a.Name)),
			DateOfBirth: p.match("date_of_birth", a.DateOfBirth)})
	}
	return out
}

// match is the keyed hash a person's value is indexed by (sealed.MatchHash).
func (p *Projector) match(kind, value string) string {
	return sealed.MatchHash(p.matchKey, kind, value)
}

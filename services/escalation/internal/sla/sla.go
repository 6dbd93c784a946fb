// Package sla watches every notice's deadlines and raises the alarm when one
// is near or missed: org.lantern.sla.at_risk.v1 a lead time before a
// deadline, org.lantern.sla.breached.v1 after it, each naming the recipient
// organisation's manager contact.
//
// Two halves share one PostgreSQL schema. Handle applies the notification
// and triage events, which arrive in any order, to a record of facts per
// notice and plans the steps each notice is watched for (delivery,
// acknowledgement, triage). Tick, run on an injected clock, finds the steps
// whose at-risk time or deadline has passed and that are not done, and in
// one transaction per batch moves them on and puts their events in the
// outbox. No deadline lives only in memory: a restart finds every deadline
// that passed while the service was down, and two replicas never raise the
// same event twice.
package sla

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/contacts"
	"github.com/lantern-safeguarding/lantern/services/escalation/migrations"
)

// Schema is the escalation service's PostgreSQL schema.
const Schema = "escalation"

// Consumer is the escalation service's durable consumer name.
const Consumer = "escalation"

// defaultBatch is how many steps one scheduler transaction handles.
const defaultBatch = 100

// Options are what an Escalator is built from.
type Options struct {
	// Clock tells the scheduler the time; tests pass a *clock.Fake.
	Clock clock.Clock
	Rules Rules
	// Reference returns the reference data in force, for MASH opening
	// hours and fallback contacts. It may return nil.
	Reference func() *refdata.Set
	// Contacts returns the manager contacts in force. It may return nil.
	Contacts func() *contacts.Book
	Log      *zap.Logger
	// Batch is how many steps one scheduler transaction handles; zero
	// means 100.
	Batch int
	// IDs keys the SLA events' ids (EventID).
	IDs cloudevent.IDs
}

// Escalator keeps the deadline state and raises SLA events.
type Escalator struct {
	pool   *pgxpool.Pool
	outbox *outbox.Store
	opts   Options
	// handlers route each consumed event type to the fact it records.
	handlers *bus.Mux
}

// New returns an escalator on pool.
func New(pool *pgxpool.Pool, o Options) *Escalator {
	if o.Batch <= 0 {
		o.Batch = defaultBatch
	}
	if o.Reference == nil {
		o.Reference = func() *refdata.Set { return nil }
	}
	if o.Contacts == nil {
		o.Contacts = func() *contacts.Book { return nil }
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	x := &Escalator{pool: pool, outbox: outbox.New(Schema), opts: o}
	x.handlers = x.mux()
	return x
}

// Outbox is the escalator's outbox, for the relay.
func (x *Escalator) Outbox() *outbox.Store { return x.outbox }

// Migrate brings the schema up to date.
func (x *Escalator) Migrate(ctx context.Context) error {
	if err := pgdb.Migrate(ctx, x.pool, Schema, migrations.FS); err != nil {
		return err
	}
	return x.outbox.Migrate(ctx, x.pool)
}

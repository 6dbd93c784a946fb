// Package ledger appends every Lantern event exactly once to the
// hash-chained, append-only record (services/ledger/auditlog) and keeps the audit
// projections (services/ledger/projection) current in the same transaction: the record
// from which timelines, timeliness reports and replays are drawn.
package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/ingest"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/retention"
)

// Schema is the ledger's PostgreSQL schema.
const Schema = auditlog.Schema

// Consumer is the ledger's durable consumer name.
const Consumer = "ledger"

// Ledger appends events.
type Ledger struct {
	pool  *pgxpool.Pool
	clock clock.Clock
	log   *zap.Logger
	// sealer seals each event's personal fields before it is appended, so
	// that the chain covers ciphertext and clear metadata only and stays
	// verifiable after the incident's key is destroyed.
	sealer *sealed.Sealer
	// appended, if set, is told each new entry's sequence number after
	// its transaction commits (the checkpointer listens).
	appended func(seq int64)
}

// New returns a ledger on pool that seals personal fields with sealer.
func New(pool *pgxpool.Pool, sealer *sealed.Sealer, c clock.Clock, log *zap.Logger) *Ledger {
	return &Ledger{pool: pool, sealer: sealer, clock: c, log: log}
}

// OnAppend sets what is told of each committed append.
func (l *Ledger) OnAppend(fn func(seq int64)) { l.appended = fn }

// Migrate brings the ledger and projection schemas up to date, then brings
// the projections level with the ledger, in case entries were appended by
// a ledger that did not keep them.
func (l *Ledger) Migrate(ctx context.Context) error {
	if err := auditlog.Migrate(ctx, l.pool); err != nil {
		return err
	}
	if err := sealed.Migrate(ctx, l.pool); err != nil {
		return err
	}
	if err := retention.Migrate(ctx, l.pool); err != nil {
		return err
	}
	if err := projection.Migrate(ctx, l.pool); err != nil {
		return err
	}
	n, err := projection.CatchUp(ctx, l.pool)
	if err != nil {
		return fmt.Errorf("bringing projections up to date: %w", err)
	}
	if n > 0 {
		l.log.Info("projections brought up to date", zap.Int("incidents", n))
	}
	return nil
}

// Handle is a bus.Handler that appends every event it is given.
func (l *Ledger) Handle(ctx context.Context, e cloudevent.Event) error {
	if cloudevent.IncidentID(e) == "" {
		return bus.Permanent(fmt.Errorf("event %s has no incidentid", e.ID()))
	}
	e, err := l.seal(ctx, e)
	if err != nil {
		return err
	}
	entry, err := auditlog.EntryOf(e, bus.MsgSubject(ctx), l.clock.Now())
	if err != nil {
		return bus.Permanent(err)
	}
	var added bool
	err = pgdb.InTx(ctx, l.pool, func(tx pgx.Tx) error {
		entry, added, err = projection.AppendAndProject(ctx, tx, entry)
		return err
	})
	if err != nil {
		return err
	}
	if added && l.appended != nil {
		// Inside a batch, once the batch has committed.
		pgdb.AfterCommit(ctx, func() { l.appended(entry.Seq) })
	}
	return nil
}

// ConsumerSpec is the ledger's durable consumer: every event, applied in
// batches of up to batch (0: bus's default), each batch's entries chained
// on from one read of the head.
func (l *Ledger) ConsumerSpec(c config.Consumer) bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: Consumer, Subjects: []string{bus.EventsSubjects}, AckWait: c.AckWait,
		Batch: bus.Batch{Size: c.Batch, DB: l.pool, Seen: auditlog.Seen}}
}

// seal returns e with its personal fields sealed, as every ledger write
// path seals them (ingest.Seal).
func (l *Ledger) seal(ctx context.Context, e cloudevent.Event) (cloudevent.Event, error) {
	out, err := ingest.Seal(ctx, l.sealer, e)
	if errors.Is(err, ingest.ErrData) {
		return e, bus.Permanent(err)
	}
	return out, err
}

// ErrNotFound means no entries exist for the incident.
var ErrNotFound = auditlog.ErrNotFound

// Package ledger appends every Lantern event exactly once to the
// hash-chained, append-only record (services/ledger/auditlog) and keeps the audit
// projections (services/ledger/projection) current in the same transaction: the record
// from which timelines, timeliness reports and replays are drawn.
package ledger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
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
	// appended, if set, is told each new entry's sequence number after
	// its transaction commits (the checkpointer listens).
	appended func(seq int64)
}

// New returns a ledger on pool.
func New(pool *pgxpool.Pool, c clock.Clock, log *zap.Logger) *Ledger {
	return &Ledger{pool: pool, clock: c, log: log}
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
		l.appended(entry.Seq)
	}
	return nil
}

// ErrNotFound means no entries exist for the incident.
var ErrNotFound = auditlog.ErrNotFound

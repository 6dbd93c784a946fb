// Package ingest is the ledger's bulk write path: it seals a batch of
// events' personal fields, appends them to the hash chain and refreshes
// the projections of every incident they touch, all in one transaction,
// with a few statements for the whole batch instead of several for each
// event. The national-year load of `make bench` writes through it. The
// ledger's consumer does not: it appends one event at a time inside the
// bus's shared batch transaction (auditlog.Append, projection.
// AppendAndProject), and TestBatchesLeaveWhatOneAtATimeLeaves holds both
// to the same entries and rows. Both seal with Seal.
package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// Received is one event as the ledger is given it: the CloudEvent and the
// NATS subject it travelled on.
type Received struct {
	Event   cloudevent.Event
	Subject string
}

// Appender appends batches of events.
type Appender struct {
	pool   *pgxpool.Pool
	sealer *sealed.Sealer
	clock  clock.Clock
}

// New returns an appender on pool that seals personal fields with sealer
// and stamps each entry with c's time.
func New(pool *pgxpool.Pool, sealer *sealed.Sealer, c clock.Clock) *Appender {
	return &Appender{pool: pool, sealer: sealer, clock: c}
}

// ErrNoIncident means an event of the batch names no incident; nothing of
// the batch is appended.
var ErrNoIncident = errors.New("event has no incidentid")

// Append seals and appends batch in one transaction and returns the
// entries that were new, in chain order. Events already in the ledger are
// skipped, as the one-at-a-time path skips them.
func (a *Appender) Append(ctx context.Context, batch []Received) ([]auditlog.Entry, error) {
	var added []auditlog.Entry
	err := pgdb.InTx(ctx, a.pool, func(tx pgx.Tx) error {
		entries, err := a.entries(ctx, tx, batch)
		if err != nil {
			return err
		}
		added, err = projection.AppendAndProjectBatch(ctx, tx, entries)
		return err
	})
	return added, err
}

// entries seals each event, with every incident's key made or read up
// front in tx, and describes it as a ledger entry.
func (a *Appender) entries(ctx context.Context, tx pgx.Tx, batch []Received) ([]auditlog.Entry, error) {
	ids := make([]string, 0, len(batch))
	seen := map[string]bool{}
	for _, r := range batch {
		id := cloudevent.IncidentID(r.Event)
		if id == "" {
			return nil, fmt.Errorf("event %s: %w", r.Event.ID(), ErrNoIncident)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sealer := a.sealer.In(tx)
	if err := sealer.PrepareKeys(ctx, tx, ids); err != nil {
		return nil, err
	}
	now := a.clock.Now()
	out := make([]auditlog.Entry, 0, len(batch))
	for _, r := range batch {
		e, err := Seal(ctx, sealer, r.Event)
		if err != nil {
			return nil, err
		}
		entry, err := auditlog.EntryOf(e, r.Subject, now)
		if err != nil {
			return nil, err
		}
		out = append(out, entry)
	}
	return out, nil
}

// ErrData means an event's sealed data could not be set back on it: the
// event is malformed, and retrying will not help.
var ErrData = errors.New("event data cannot be replaced")

// Seal returns e with its data's personal fields sealed under its
// incident's key, so that the chain covers ciphertext and clear metadata
// only and stays verifiable after the key is destroyed. An incident
// already shredded gets no new key: its late event is kept with those
// fields removed (sealed.SealFields). The data is set back as bytes, so the
// stored event carries it as data_base64, as the ledger always has.
func Seal(ctx context.Context, sealer *sealed.Sealer, e cloudevent.Event) (cloudevent.Event, error) {
	if len(e.Data()) == 0 {
		return e, nil
	}
	data, err := sealer.SealFields(ctx, cloudevent.IncidentID(e), e.Data())
	if err != nil {
		return e, fmt.Errorf("sealing event %s: %w", e.ID(), err)
	}
	out := e.Clone()
	if err := out.SetData(e.DataContentType(), data); err != nil {
		return e, fmt.Errorf("sealing event %s: %w: %w", e.ID(), ErrData, err)
	}
	return out, nil
}

// Package outbox makes a service's events transactional with its state. The
// outbox half stores each event to publish in the same PostgreSQL
// transaction as its cause, and a relay publishes it to JetStream afterwards;
// the inbox half records each consumed event in the transaction that applies
// it. Together they give effectively-once processing over at-least-once
// delivery, across crashes of any process.
package outbox

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/tracing"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the outbox and inbox of one service, kept in that service's
// PostgreSQL schema.
type Store struct {
	schema string
	table  string
	inbox  string
	// wake tells this process's relay that a transaction run by InTx
	// committed events.
	wake chan struct{}
	// sealer, when set, seals the personal fields of every body under its
	// incident's key, so that bodies can be kept for re-publishing without
	// personal data in clear.
	sealer *sealed.Sealer
	// Keep is how long a published event keeps its body: the horizon
	// within which `lantern reconcile` can publish it again if the broker
	// loses it. After that only the row (id, subject, times) remains.
	Keep time.Duration
}

// DefaultKeep is the re-publish horizon: as far back as `lantern reconcile`
// looks by default.
const DefaultKeep = 7 * 24 * time.Hour

// New returns the store kept in schema.
func New(schema string) *Store {
	return &Store{
		schema: schema,
		table:  pgx.Identifier{schema, "outbox"}.Sanitize(),
		inbox:  pgx.Identifier{schema, "consumed_events"}.Sanitize(),
		wake:   make(chan struct{}, 1),
		Keep:   DefaultKeep,
	}
}

// WithSealer makes the store seal each body's personal fields under its
// incident's key, and the relay open them for publishing. It returns s.
func (s *Store) WithSealer(sealer *sealed.Sealer) *Store {
	s.sealer = sealer
	return s
}

// encode returns e as the outbox stores it: JSON, its data's personal
// fields sealed in tx when the store has a sealer.
func (s *Store) encode(ctx context.Context, tx pgx.Tx, e cloudevent.Event) ([]byte, error) {
	e = tracing.Stamp(ctx, e)
	if s.sealer != nil {
		var err error
		if e, err = s.sealer.In(tx).SealEvent(ctx, e); err != nil {
			return nil, fmt.Errorf("sealing: %w", err)
		}
	}
	body, err := e.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding event %s: %w", e.ID(), err)
	}
	return body, nil
}

// decode reverses encode for the relay.
func (s *Store) decode(ctx context.Context, body []byte) (cloudevent.Event, error) {
	e := event.New()
	if err := e.UnmarshalJSON(body); err != nil || s.sealer == nil {
		return e, err
	}
	return s.sealer.OpenEvent(ctx, e)
}

// InTx runs fn in a transaction, as pgdb.InTx does, and wakes this store's
// relay the moment the transaction commits if fn enqueued an event. Events
// enqueued in any other transaction wake relays with a NOTIFY sent inside
// that transaction instead. That reaches relays in any process, but
// PostgreSQL serialises the commits of every transaction that notifies,
// across the whole server, so that they cannot share a WAL flush: under
// load, commits queue behind one another. A service whose relay runs in
// its own process should enqueue through InTx.
func (s *Store) InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	tx := &wakingTx{store: s}
	err := pgdb.InTx(ctx, pool, func(inner pgx.Tx) error {
		tx.Tx = inner
		return fn(tx)
	})
	if err == nil && tx.enqueued {
		// Inside a batch (pgdb.Shared) the commit is still to come.
		pgdb.AfterCommit(ctx, s.wakeRelay)
	}
	return err
}

func (s *Store) wakeRelay() {
	select {
	case s.wake <- struct{}{}:
	default: // the relay has a wake-up waiting already
	}
}

// wakingTx is a transaction run by Store.InTx: it remembers that an event
// was enqueued, so that the relay is woken after the commit.
type wakingTx struct {
	pgx.Tx
	store    *Store
	enqueued bool
}

// Migrate creates the outbox tables in the service's schema. They have a
// version table of their own so that they migrate independently of the
// service's tables.
func (s *Store) Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return pgdb.MigrateTable(ctx, pool, s.schema, "outbox_db_version", sub)
}

// Schema is the PostgreSQL schema the store is kept in.
func (s *Store) Schema() string { return s.schema }

// channel is the LISTEN/NOTIFY channel that wakes the relay at commit.
func (s *Store) channel() string { return s.schema + "_outbox" }

// Enqueue adds e to the outbox inside tx, carrying the trace context of
// ctx (tracing.Stamp) so that the trace continues past the relay. Enqueueing the same event id twice
// is a no-op, so a handler that runs again produces no second event. The
// relay is woken when tx commits: directly if tx was begun by InTx, by a
// NOTIFY otherwise.
func (s *Store) Enqueue(ctx context.Context, tx pgx.Tx, subject string, e cloudevent.Event) error {
	body, err := s.encode(ctx, tx, e)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO `+s.table+` (event_id, subject, event) VALUES ($1, $2, $3)
		ON CONFLICT (event_id) DO NOTHING`, e.ID(), subject, body)
	if err != nil {
		return fmt.Errorf("enqueueing event %s: %w", e.ID(), err)
	}
	return s.wakeAtCommit(ctx, tx)
}

// Outgoing is one event to enqueue and the subject to publish it on.
type Outgoing struct {
	Subject string
	Event   cloudevent.Event
}

// EnqueueAll adds every event to the outbox inside tx, in the order given,
// in one statement: a handler that emits several events pays one round
// trip to PostgreSQL for them, not one each. Events already enqueued are
// skipped, as with Enqueue.
func (s *Store) EnqueueAll(ctx context.Context, tx pgx.Tx, out []Outgoing) error {
	if len(out) == 0 {
		return nil
	}
	ids, subjects, bodies := make([]string, len(out)), make([]string, len(out)), make([][]byte, len(out))
	for i, o := range out {
		body, err := s.encode(ctx, tx, o.Event)
		if err != nil {
			return err
		}
		ids[i], subjects[i], bodies[i] = o.Event.ID(), o.Subject, body
	}
	_, err := tx.Exec(ctx, `INSERT INTO `+s.table+` (event_id, subject, event)
		SELECT id, subject, event FROM unnest($1::text[], $2::text[], $3::bytea[]) WITH ORDINALITY AS e(id, subject, event, n)
		ORDER BY n ON CONFLICT (event_id) DO NOTHING`, ids, subjects, bodies)
	if err != nil {
		return fmt.Errorf("enqueueing %d events: %w", len(out), err)
	}
	return s.wakeAtCommit(ctx, tx)
}

// wakeAtCommit arranges for the relay to be woken when tx commits.
func (s *Store) wakeAtCommit(ctx context.Context, tx pgx.Tx) error {
	if w, ok := tx.(*wakingTx); ok && w.store == s {
		w.enqueued = true
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, s.channel()); err != nil {
		return fmt.Errorf("notifying relay: %w", err)
	}
	return nil
}

// Claim records inside tx that consumer has applied eventID. It returns
// false if the event was applied before, in which case the caller must not
// apply it again (and should still let tx commit or roll back harmlessly).
func (s *Store) Claim(ctx context.Context, tx pgx.Tx, consumer, eventID string) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO `+s.inbox+` (consumer, event_id) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, consumer, eventID)
	if err != nil {
		return false, fmt.Errorf("claiming event %s: %w", eventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Seen returns which of ids consumer has applied already, in one query:
// a batch consumer (bus.Batch) skips those without running their
// handlers. It only saves work; each handler still claims its event.
func (s *Store) Seen(consumer string) func(ctx context.Context, q pgdb.Querier, ids []string) (map[string]bool, error) {
	return func(ctx context.Context, q pgdb.Querier, ids []string) (map[string]bool, error) {
		return pgdb.SeenIDs(ctx, q, `SELECT event_id FROM `+s.inbox+` WHERE consumer = $2 AND event_id = ANY($1)`, ids, consumer)
	}
}

// Pending counts events not yet published, for health and progress reports.
func (s *Store) Pending(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var n int64
	err := pool.QueryRow(ctx, `SELECT count(*) FROM `+s.table+` WHERE published_at IS NULL`).Scan(&n)
	return n, err
}

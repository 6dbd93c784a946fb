package auditlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog/migrations"
)

// Schema is the ledger's PostgreSQL schema.
const Schema = "ledger"

// Querier is what the readers need: a pool, a connection or a transaction.
type Querier = pgdb.Querier

// ErrNotFound means the ledger holds no entries for what was asked.
var ErrNotFound = errors.New("no ledger entries found")

// Migrate brings the ledger's schema up to date.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgdb.Migrate(ctx, pool, Schema, migrations.FS)
}

// EntryOf describes e as a ledger entry received on natsSubject at
// recordedAt. Seq and the hashes are assigned by Append.
func EntryOf(e cloudevent.Event, natsSubject string, recordedAt time.Time) (Entry, error) {
	body, err := e.MarshalJSON()
	if err != nil {
		return Entry{}, fmt.Errorf("encoding event %s: %w", e.ID(), err)
	}
	return Entry{
		EventID: e.ID(), EventType: e.Type(), NATSSubject: natsSubject, IncidentID: cloudevent.IncidentID(e),
		Subject: e.Subject(), Actor: cloudevent.Actor(e), Source: e.Source(), EventTime: e.Time(),
		RecordedAt: recordedAt.UTC(), Event: body,
	}, nil
}

// Append adds e to the chain inside tx and returns it with its sequence
// number and hashes. An event whose id is already in the ledger is not
// added again: Append returns the stored entry and false.
//
// Inside a batch (pgdb.Shared) the head is locked and read by the batch's
// first append only, later appends chain on from it in memory, and the
// head row is moved once, just before the batch commits: a batch of any
// size reads and writes the head once.
func Append(ctx context.Context, tx pgx.Tx, e Entry) (Entry, bool, error) {
	c, err := chainOf(ctx, tx)
	if err != nil {
		return Entry{}, false, err
	}
	e = c.head.next(e)
	added, err := insert(ctx, tx, e)
	if err != nil {
		return Entry{}, false, err
	}
	if !added {
		// The head is locked, so the earlier twin is committed, or in this
		// transaction: either way it is there to read.
		if err := tx.QueryRow(ctx, `SELECT seq FROM ledger.entries WHERE event_id = $1`, e.EventID).Scan(&e.Seq); err != nil {
			return Entry{}, false, fmt.Errorf("checking ledger for event %s: %w", e.EventID, err)
		}
		e.PrevHash, e.Hash = nil, nil
		return e, false, nil
	}
	c.head = Head{Seq: e.Seq, Hash: e.Hash}
	if !c.batched {
		return e, true, moveHead(ctx, tx, c.head)
	}
	return e, true, nil
}

// chain is the head as appends in one transaction have moved it.
type chain struct {
	head    Head
	batched bool
}

type chainKey struct{}

// chainOf locks and reads the head, once per batch inside one. Locking the
// head first serialises appends, so that no other append of the same event
// can race with this one.
func chainOf(ctx context.Context, tx pgx.Tx) (*chain, error) {
	sh := pgdb.SharedOf(ctx)
	if sh == nil || sh.Tx() != tx {
		h, err := lockHead(ctx, tx)
		return &chain{head: h}, err
	}
	c, err := sh.Value(chainKey{}, func() (any, error) {
		h, err := lockHead(ctx, tx)
		if err != nil {
			return nil, err
		}
		c := &chain{head: h, batched: true}
		sh.BeforeCommit(func(ctx context.Context, tx pgx.Tx) error {
			if c.head.Seq == h.Seq {
				return nil
			}
			return moveHead(ctx, tx, c.head)
		})
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*chain), nil
}

// next returns e chained on after h: the sequence number after h's and
// the hash over h's. Every append path chains entries with it.
func (h Head) next(e Entry) Entry {
	e.Seq, e.PrevHash = h.Seq+1, h.Hash
	e.Hash = ChainHash(e.PrevHash, e.Seq, e.Event)
	return e
}

func lockHead(ctx context.Context, tx pgx.Tx) (Head, error) {
	var head Head
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM ledger.head FOR UPDATE`).Scan(&head.Seq, &head.Hash); err != nil {
		return Head{}, fmt.Errorf("locking ledger head: %w", err)
	}
	return head, nil
}

func moveHead(ctx context.Context, tx pgx.Tx, h Head) error {
	if _, err := tx.Exec(ctx, `UPDATE ledger.head SET seq = $1, hash = $2`, h.Seq, h.Hash); err != nil {
		return fmt.Errorf("moving ledger head: %w", err)
	}
	return nil
}

// insert stores e, and reports false if an entry of the same event is
// there already.
func insert(ctx context.Context, tx pgx.Tx, e Entry) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO ledger.entries (seq, event_id, event_type, nats_subject, incident_id, subject,
		actor, source, event_time, recorded_at, event, prev_hash, hash)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (event_id) DO NOTHING`,
		e.Seq, e.EventID, e.EventType, e.NATSSubject, e.IncidentID, e.Subject, e.Actor, e.Source,
		e.EventTime, e.RecordedAt, e.Event, e.PrevHash, e.Hash)
	if err != nil {
		return false, fmt.Errorf("appending entry %d: %w", e.Seq, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Seen returns which of ids the ledger holds, in one query, for the
// ledger's batch consumer.
func Seen(ctx context.Context, q Querier, ids []string) (map[string]bool, error) {
	return pgdb.SeenIDs(ctx, q, `SELECT event_id FROM ledger.entries WHERE event_id = ANY($1)`, ids)
}

// ReadHead returns what the head row says.
func ReadHead(ctx context.Context, q Querier) (Head, error) {
	var h Head
	if err := q.QueryRow(ctx, `SELECT seq, hash FROM ledger.head`).Scan(&h.Seq, &h.Hash); err != nil {
		return Head{}, fmt.Errorf("reading ledger head: %w", err)
	}
	return h, nil
}

const entryColumns = `seq, event_id, event_type, nats_subject, incident_id, subject, actor, source,
	event_time, recorded_at, event, prev_hash, hash`

// ScanEntries calls fn for every entry with after < seq <= upTo, in
// sequence order, streaming rows so that a long ledger is never held in
// memory. upTo <= 0 means no upper bound. It stops at fn's first error.
func ScanEntries(ctx context.Context, q Querier, after, upTo int64, fn func(Entry) error) error {
	if upTo <= 0 {
		upTo = 1<<63 - 1
	}
	rows, err := q.Query(ctx, `SELECT `+entryColumns+` FROM ledger.entries
		WHERE seq > $1 AND seq <= $2 ORDER BY seq`, after, upTo)
	if err != nil {
		return fmt.Errorf("reading ledger entries: %w", err)
	}
	return eachEntry(rows, fn)
}

// IncidentEntries returns every entry of incidentID in sequence order, or
// ErrNotFound.
func IncidentEntries(ctx context.Context, q Querier, incidentID string) ([]Entry, error) {
	rows, err := q.Query(ctx, `SELECT `+entryColumns+` FROM ledger.entries
		WHERE incident_id = $1 ORDER BY seq`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("reading entries of incident: %w", err)
	}
	var out []Entry
	if err := eachEntry(rows, func(e Entry) error { out = append(out, e); return nil }); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}

func eachEntry(rows pgx.Rows, fn func(Entry) error) error {
	defer rows.Close()
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Seq, &e.EventID, &e.EventType, &e.NATSSubject, &e.IncidentID, &e.Subject, &e.Actor,
			&e.Source, &e.EventTime, &e.RecordedAt, &e.Event, &e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("scanning ledger entry: %w", err)
		}
		if err := fn(e); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading ledger entries: %w", err)
	}
	return nil
}

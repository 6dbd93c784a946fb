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
func Append(ctx context.Context, tx pgx.Tx, e Entry) (Entry, bool, error) {
	// Locking the head first serialises appends, so that the check for an
	// earlier twin below cannot race with another append of the same event.
	var head Head
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM ledger.head FOR UPDATE`).Scan(&head.Seq, &head.Hash); err != nil {
		return Entry{}, false, fmt.Errorf("locking ledger head: %w", err)
	}
	var seq int64
	err := tx.QueryRow(ctx, `SELECT seq FROM ledger.entries WHERE event_id = $1`, e.EventID).Scan(&seq)
	if err == nil {
		e.Seq = seq
		return e, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, false, fmt.Errorf("checking ledger for event %s: %w", e.EventID, err)
	}
	e.Seq, e.PrevHash = head.Seq+1, head.Hash
	e.Hash = ChainHash(e.PrevHash, e.Seq, e.Event)
	if err := insert(ctx, tx, e); err != nil {
		return Entry{}, false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE ledger.head SET seq = $1, hash = $2`, e.Seq, e.Hash); err != nil {
		return Entry{}, false, fmt.Errorf("moving ledger head: %w", err)
	}
	return e, true, nil
}

func insert(ctx context.Context, tx pgx.Tx, e Entry) error {
	_, err := tx.Exec(ctx, `INSERT INTO ledger.entries (seq, event_id, event_type, nats_subject, incident_id, subject,
		actor, source, event_time, recorded_at, event, prev_hash, hash)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		e.Seq, e.EventID, e.EventType, e.NATSSubject, e.IncidentID, e.Subject, e.Actor, e.Source,
		e.EventTime, e.RecordedAt, e.Event, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("appending entry %d: %w", e.Seq, err)
	}
	return nil
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

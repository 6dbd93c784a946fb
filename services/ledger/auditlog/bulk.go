package auditlog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AppendBatch adds entries to the chain inside tx, in the order given, and
// returns those that were new with their sequence numbers and hashes.
// Entries whose event id is already in the ledger, or repeats an earlier
// entry of the batch, are left out, as Append leaves them out one by one.
// The chain is the same as appending each entry with Append; only the
// round trips differ: one lock, one look-up of every id and one COPY.
func AppendBatch(ctx context.Context, tx pgx.Tx, entries []Entry) ([]Entry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	var head Head
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM ledger.head FOR UPDATE`).Scan(&head.Seq, &head.Hash); err != nil {
		return nil, fmt.Errorf("locking ledger head: %w", err)
	}
	known, err := storedIDs(ctx, tx, entries)
	if err != nil {
		return nil, err
	}
	added := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if known[e.EventID] {
			continue
		}
		known[e.EventID] = true
		e.Seq, e.PrevHash = head.Seq+1, head.Hash
		e.Hash = ChainHash(e.PrevHash, e.Seq, e.Event)
		head = Head{Seq: e.Seq, Hash: e.Hash}
		added = append(added, e)
	}
	if len(added) == 0 {
		return nil, nil
	}
	if err := copyEntries(ctx, tx, added); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE ledger.head SET seq = $1, hash = $2`, head.Seq, head.Hash); err != nil {
		return nil, fmt.Errorf("moving ledger head: %w", err)
	}
	return added, nil
}

// storedIDs returns which of the entries' event ids the ledger holds.
func storedIDs(ctx context.Context, tx pgx.Tx, entries []Entry) (map[string]bool, error) {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.EventID
	}
	rows, err := tx.Query(ctx, `SELECT event_id FROM ledger.entries WHERE event_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("checking ledger for the batch's events: %w", err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("checking ledger for the batch's events: %w", err)
	}
	known := make(map[string]bool, len(entries))
	for _, id := range stored {
		known[id] = true
	}
	return known, nil
}

var entryColumnNames = []string{"seq", "event_id", "event_type", "nats_subject", "incident_id", "subject",
	"actor", "source", "event_time", "recorded_at", "event", "prev_hash", "hash"}

func copyEntries(ctx context.Context, tx pgx.Tx, entries []Entry) error {
	src := pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
		e := &entries[i]
		return []any{e.Seq, e.EventID, e.EventType, e.NATSSubject, e.IncidentID, e.Subject, e.Actor, e.Source,
			e.EventTime, e.RecordedAt, e.Event, e.PrevHash, e.Hash}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{Schema, "entries"}, entryColumnNames, src); err != nil {
		return fmt.Errorf("appending entries %d to %d: %w", entries[0].Seq, entries[len(entries)-1].Seq, err)
	}
	return nil
}

// EntriesOfIncidents calls fn for every entry of the incidents ids, in
// sequence order, streaming the rows.
func EntriesOfIncidents(ctx context.Context, q Querier, ids []string, fn func(Entry) error) error {
	rows, err := q.Query(ctx, `SELECT `+entryColumns+` FROM ledger.entries WHERE incident_id = ANY($1) ORDER BY seq`, ids)
	if err != nil {
		return fmt.Errorf("reading entries of incidents: %w", err)
	}
	return eachEntry(rows, fn)
}

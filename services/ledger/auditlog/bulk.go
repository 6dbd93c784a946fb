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
	head, err := lockHead(ctx, tx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.EventID
	}
	known, err := Seen(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	added := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if known[e.EventID] {
			continue
		}
		known[e.EventID] = true
		e = head.next(e)
		head = Head{Seq: e.Seq, Hash: e.Hash}
		added = append(added, e)
	}
	if len(added) == 0 {
		return nil, nil
	}
	if err := copyEntries(ctx, tx, added); err != nil {
		return nil, err
	}
	return added, moveHead(ctx, tx, head)
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

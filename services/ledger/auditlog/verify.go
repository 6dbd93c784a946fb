package auditlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
)

// Problem names the first ledger entry that is not as it was written.
type Problem struct {
	Seq    int64
	Reason string
}

func (p *Problem) Error() string { return fmt.Sprintf("ledger entry %d: %s", p.Seq, p.Reason) }

// Result is what a verification found.
type Result struct {
	// Entries is the number of entries whose hashes were recomputed.
	Entries int64
	// Head is the recomputed last sequence number and hash.
	Head Head
	// Latest is the newest checkpoint checked against, if any.
	Latest *FileCheckpoint
	// Problem is the first bad entry, or nil when the ledger is intact.
	Problem *Problem
}

// signedHash is the hash a checkpoint recorded for one entry.
type signedHash struct {
	hash []byte
	cp   *FileCheckpoint
}

// indexCheckpoints maps every sequence number the checkpoints list to its
// signed hash. Two checkpoints that disagree about one entry mean the
// ledger was forked and checkpointed on both branches: that is reported
// as that entry's problem.
func indexCheckpoints(cps []FileCheckpoint) (map[int64]signedHash, *Problem) {
	idx := map[int64]signedHash{}
	for i := range cps {
		cp := &cps[i]
		for j, h := range cp.Hashes {
			seq := cp.First + int64(j)
			if prev, ok := idx[seq]; ok && !bytes.Equal(prev.hash, h) {
				return nil, &Problem{Seq: seq, Reason: fmt.Sprintf(
					"checkpoints %s and %s sign different hashes for this entry", prev.cp.Path, cp.Path)}
			}
			idx[seq] = signedHash{hash: h, cp: cp}
		}
	}
	return idx, nil
}

// checker recomputes the chain one entry at a time and remembers the first
// problem. It is a pure state machine, so that it can be tested and fuzzed
// without a database.
type checker struct {
	next    int64
	prev    []byte
	signed  map[int64]signedHash
	problem *Problem
}

func newChecker(signed map[int64]signedHash) *checker {
	return &checker{next: 1, prev: Genesis, signed: signed}
}

// add checks e, the next entry read in sequence order, and returns the
// problem it found, if any. Once a problem is found add changes nothing.
func (c *checker) add(e Entry) *Problem {
	if c.problem != nil {
		return c.problem
	}
	hash := ChainHash(c.prev, c.next, e.Event)
	if reason := c.fault(e, hash); reason != "" {
		c.problem = &Problem{Seq: c.next, Reason: reason}
		return c.problem
	}
	c.prev, c.next = hash, c.next+1
	return nil
}

// fault explains what is wrong with e, given the hash it should have.
func (c *checker) fault(e Entry, hash []byte) string {
	switch {
	case e.Seq > c.next:
		return fmt.Sprintf("missing: the entry after %d is numbered %d", c.next-1, e.Seq)
	case e.Seq < c.next:
		return fmt.Sprintf("numbered %d again", e.Seq)
	case !bytes.Equal(e.PrevHash, c.prev):
		return fmt.Sprintf("does not follow entry %d: its stored link is not entry %d's hash "+
			"(entry %d was rewritten, or this entry was changed or moved here)", c.next-1, c.next-1, c.next-1)
	case !bytes.Equal(e.Hash, hash):
		return "its event does not match its stored hash: the entry was changed"
	}
	if col := mismatchedColumn(e); col != "" {
		return fmt.Sprintf("its %s column does not match its hashed event: the column was changed", col)
	}
	if s, ok := c.signed[e.Seq]; ok && !bytes.Equal(s.hash, hash) {
		return fmt.Sprintf("differs from the entry signed in checkpoint %s at %s: the ledger was rewritten "+
			"from here on or restored from another copy", s.cp.Path, s.cp.Time.UTC().Format(time.RFC3339))
	}
	return ""
}

// mismatchedColumn returns the first of e's searchable columns that no
// longer agrees with the event bytes the hash covers. A timeline selects
// entries by incident_id, so a changed column could hide an entry without
// breaking the chain.
func mismatchedColumn(e Entry) string {
	ev := event.New()
	if err := ev.UnmarshalJSON(e.Event); err != nil {
		return "event"
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"event_id", e.EventID == ev.ID()},
		{"event_type", e.EventType == ev.Type()},
		{"incident_id", e.IncidentID == cloudevent.IncidentID(ev)},
		{"subject", e.Subject == ev.Subject()},
		{"actor", e.Actor == cloudevent.Actor(ev)},
		{"source", e.Source == ev.Source()},
		{"event_time", e.EventTime.Equal(ev.Time().Truncate(time.Microsecond))},
	}
	for _, c := range checks {
		if !c.ok {
			return c.name
		}
	}
	return ""
}

// finish checks the end of the chain against the head row and the newest
// checkpoint: a chain that ends early was truncated or rolled back.
func (c *checker) finish(head Head, latest *FileCheckpoint) *Problem {
	if c.problem != nil {
		return c.problem
	}
	last := c.next - 1
	switch {
	case latest != nil && last < latest.Seq:
		c.problem = &Problem{Seq: last + 1, Reason: fmt.Sprintf("missing: the ledger ends at entry %d but checkpoint %s "+
			"signed %d entries at %s (the tail was removed or the database was restored from an older backup)",
			last, latest.Path, latest.Seq, latest.Time.UTC().Format(time.RFC3339))}
	case head.Seq > last:
		c.problem = &Problem{Seq: last + 1, Reason: fmt.Sprintf("missing: the head row counts %d entries but the last is %d", head.Seq, last)}
	case head.Seq < last:
		c.problem = &Problem{Seq: head.Seq + 1, Reason: fmt.Sprintf("beyond the head row, which was set back to %d", head.Seq)}
	case !bytes.Equal(head.Hash, c.prev):
		c.problem = &Problem{Seq: last, Reason: "the head row's hash is not this entry's hash"}
	}
	return c.problem
}

// VerifyOptions tune a verification.
type VerifyOptions struct {
	// Checkpoints are the verified checkpoints to check against (see
	// ReadCheckpoints). With none, truncation and rollback go unseen.
	Checkpoints []FileCheckpoint
	// Progress, if set, is called every ProgressEvery entries and at the
	// end with the entries checked and the total to check.
	Progress      func(done, total int64)
	ProgressEvery int64
}

// VerifyDatabase recomputes the whole chain in one consistent snapshot of
// the database, so that entries appended while it runs do not look like a
// mismatch with the head row.
func VerifyDatabase(ctx context.Context, pool *pgxpool.Pool, o VerifyOptions) (Result, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Result{}, fmt.Errorf("starting snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return Verify(ctx, tx, o)
}

// Verify recomputes the chain from entry 1 and returns the first bad entry
// in Result.Problem. The error is for failures to read, not for tampering.
func Verify(ctx context.Context, q Querier, o VerifyOptions) (Result, error) {
	head, err := ReadHead(ctx, q)
	if err != nil {
		return Result{}, err
	}
	res := Result{}
	if n := len(o.Checkpoints); n > 0 {
		res.Latest = &o.Checkpoints[n-1]
	}
	signed, conflict := indexCheckpoints(o.Checkpoints)
	if conflict != nil {
		res.Problem = conflict
		return res, nil
	}
	c := newChecker(signed)
	report := progressEvery(o, head.Seq)
	err = ScanEntries(ctx, q, 0, 0, func(e Entry) error {
		if c.add(e) != nil {
			return errStop
		}
		report(c.next - 1)
		return nil
	})
	if err != nil && err != errStop {
		return Result{}, err
	}
	res.Problem = c.finish(head, res.Latest)
	res.Entries, res.Head = c.next-1, Head{Seq: c.next - 1, Hash: c.prev}
	if o.Progress != nil {
		o.Progress(res.Entries, head.Seq)
	}
	return res, nil
}

// errStop ends a scan early once the first problem is known.
var errStop = errors.New("stop")

func progressEvery(o VerifyOptions, total int64) func(done int64) {
	every := o.ProgressEvery
	if every <= 0 {
		every = 10000
	}
	return func(done int64) {
		if o.Progress != nil && done%every == 0 {
			o.Progress(done, total)
		}
	}
}

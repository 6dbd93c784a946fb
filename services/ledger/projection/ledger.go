package projection

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// FactsOfEntries reduces ledger entries to facts, skipping entries of
// types no projection uses. Skipped unreadable entries are counted, never
// fatal: the ledger keeps whatever it was sent, and a replay skips the same
// events.
func FactsOfEntries(entries []auditlog.Entry) (facts []Fact, unreadable int) {
	return factsOfEntries(entries, FactOfEntry)
}

// factsOfEntries reduces entries with decode, FactOfEntry or
// FastFactOfEntry.
func factsOfEntries(entries []auditlog.Entry, decode func(auditlog.Entry) (Fact, bool)) (facts []Fact, unreadable int) {
	for _, e := range entries {
		f, ok := decode(e)
		switch {
		case ok:
			facts = append(facts, f)
		case f.EventID != "":
			unreadable++
		}
	}
	return facts, unreadable
}

// FactOfEntry reduces one ledger entry. ok is false for an entry no
// projection uses; EventID is then set only if the entry was unreadable.
func FactOfEntry(e auditlog.Entry) (Fact, bool) {
	ev, err := e.CloudEvent()
	if err != nil {
		return Fact{EventID: e.EventID}, false
	}
	f, ok, err := FactOf(ev)
	if err != nil {
		return Fact{EventID: e.EventID}, false
	}
	return f, ok
}

// RefreshIncident recomputes incidentID's rows from its ledger entries,
// inside tx, so that the projection changes in the same transaction as the
// append that caused it.
func RefreshIncident(ctx context.Context, tx pgx.Tx, incidentID string) error {
	return refreshIncidents(ctx, tx, []string{incidentID})
}

// CatchUp brings the projection tables up to the ledger's head, one
// incident per transaction, for a ledger service that starts after
// entries were appended without it (an upgrade, or a ledger restored from
// a copy). It returns the number of incidents refreshed. It must run
// before the service appends anything.
func CatchUp(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	head, err := auditlog.ReadHead(ctx, pool)
	if err != nil {
		return 0, err
	}
	done, err := ProjectedSeq(ctx, pool)
	if err != nil || done == head.Seq {
		return 0, err
	}
	if done > head.Seq {
		// The ledger is shorter than what was projected: it was
		// restored from a copy. Start again from nothing.
		if err := clearAll(ctx, pool); err != nil {
			return 0, err
		}
		done = 0
	}
	ids, err := incidentsSince(ctx, pool, done)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error { return RefreshIncident(ctx, tx, id) }); err != nil {
			return 0, err
		}
	}
	return len(ids), SetProjectedSeq(ctx, pool, head.Seq)
}

// incidentsSince lists the incidents with entries after seq.
func incidentsSince(ctx context.Context, q Querier, seq int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT incident_id FROM ledger.entries WHERE seq > $1 ORDER BY incident_id`, seq)
	if err != nil {
		return nil, fmt.Errorf("listing incidents to project: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing incidents to project: %w", err)
	}
	return ids, nil
}

func clearAll(ctx context.Context, q Querier) error {
	for _, name := range tableNames {
		if _, err := q.Exec(ctx, `DELETE FROM audit.`+name); err != nil {
			return fmt.Errorf("clearing %s: %w", name, err)
		}
	}
	return nil
}

// AppendAndProject appends entry to the ledger and, if it was new,
// refreshes its incident's projections and records how far they reach,
// all inside tx. It is the ledger service's one write path, so that the
// chain and the read models never disagree about which events exist.
//
// Inside a batch (pgdb.Shared) each incident the batch touched is
// refreshed once, and the projections' reach recorded once, just before
// the batch commits, rather than after every append.
func AppendAndProject(ctx context.Context, tx pgx.Tx, entry auditlog.Entry) (auditlog.Entry, bool, error) {
	entry, added, err := auditlog.Append(ctx, tx, entry)
	if err != nil || !added {
		return entry, added, err
	}
	// Events no projection reads (access records, which grow with every
	// look at an incident) change no row, so they cost no refresh.
	_, projected := readers[events.Type(entry.EventType)]
	if sh := pgdb.SharedOf(ctx); sh != nil && sh.Tx() == tx {
		p, err := pendingOf(sh)
		if err != nil {
			return entry, false, err
		}
		p.seq = entry.Seq
		if projected && !slices.Contains(p.incidents, entry.IncidentID) {
			p.incidents = append(p.incidents, entry.IncidentID)
		}
		return entry, true, nil
	}
	if projected {
		if err := RefreshIncident(ctx, tx, entry.IncidentID); err != nil {
			return entry, false, err
		}
	}
	return entry, true, SetProjectedSeq(ctx, tx, entry.Seq)
}

// pending is what a batch's appends leave for the projections to catch up
// on before it commits.
type pending struct {
	incidents []string
	seq       int64
}

type pendingKey struct{}

func pendingOf(sh *pgdb.Shared) (*pending, error) {
	v, err := sh.Value(pendingKey{}, func() (any, error) {
		p := &pending{}
		sh.BeforeCommit(func(ctx context.Context, tx pgx.Tx) error {
			if len(p.incidents) > 0 {
				if err := refreshIncidents(ctx, tx, p.incidents); err != nil {
					return err
				}
			}
			return SetProjectedSeq(ctx, tx, p.seq)
		})
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*pending), nil
}

// IncidentTimeline reads incidentID's entries from the ledger and arranges
// them, with each step's ledger sequence number. It returns
// auditlog.ErrNotFound for an incident the ledger does not know.
func IncidentTimeline(ctx context.Context, q auditlog.Querier, incidentID string) (Timeline, error) {
	entries, err := auditlog.IncidentEntries(ctx, q, incidentID)
	if err != nil {
		return Timeline{}, err
	}
	seqs := make(map[string]int64, len(entries))
	for _, e := range entries {
		seqs[e.EventID] = e.Seq
	}
	facts, _ := FactsOfEntries(entries)
	return BuildTimeline(incidentID, Project(facts), seqs), nil
}

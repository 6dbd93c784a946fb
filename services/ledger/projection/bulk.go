package projection

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// AppendAndProjectBatch is AppendAndProject for many entries in one
// transaction: it appends the new ones to the chain with one COPY, then
// recomputes every incident they touch from all of its entries, the
// earlier ones read in one query, and rewrites those incidents' rows with
// one DELETE and one COPY a table. The rows are those AppendAndProject
// would leave after the same entries one by one, since each incident's
// rows are a function of its whole set of events. It returns the entries
// that were new.
func AppendAndProjectBatch(ctx context.Context, tx pgx.Tx, entries []auditlog.Entry) ([]auditlog.Entry, error) {
	added, err := auditlog.AppendBatch(ctx, tx, entries)
	if err != nil || len(added) == 0 {
		return added, err
	}
	ids := projectedIncidents(added)
	if len(ids) > 0 {
		if err := refreshIncidents(ctx, tx, ids); err != nil {
			return nil, err
		}
	}
	return added, SetProjectedSeq(ctx, tx, added[len(added)-1].Seq)
}

// projectedIncidents lists, once each, the incidents of the entries that
// some projection reads; access records alone change no row.
func projectedIncidents(entries []auditlog.Entry) []string {
	seen := map[string]bool{}
	var ids []string
	for _, e := range entries {
		if _, projected := readers[events.Type(e.EventType)]; projected && !seen[e.IncidentID] {
			seen[e.IncidentID] = true
			ids = append(ids, e.IncidentID)
		}
	}
	return ids
}

// refreshIncidents recomputes the rows of ids from all their entries,
// read in one query, and replaces them with one DELETE and one COPY a
// table: for a single incident after an append, for every incident a
// batch touched just before it commits.
func refreshIncidents(ctx context.Context, tx pgx.Tx, ids []string) error {
	var facts []Fact
	err := auditlog.EntriesOfIncidents(ctx, tx, ids, func(e auditlog.Entry) error {
		if f, ok := FastFactOfEntry(e); ok {
			facts = append(facts, f)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("refreshing projections: %w", err)
	}
	return replaceIncidents(ctx, tx, ids, Project(facts))
}

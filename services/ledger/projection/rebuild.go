package projection

import (
	"context"
	"fmt"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// rebuildChunk is about how many entries go into one projected and written
// chunk: large enough that a COPY carries thousands of rows, small enough
// that a few chunks in flight stay a few megabytes.
const rebuildChunk = 4000

// Rebuilt counts what Rebuild read.
type Rebuilt struct {
	// Read is every entry read; Used those some projection reads;
	// Unreadable those of a projected type that could not be decoded,
	// skipped as the live ledger skips them.
	Read, Used, Unreadable int64
}

// Rebuild reads every ledger entry up to upTo from src, incident by
// incident, and writes the projections they imply into dst, whose tables
// must be empty. It streams: entries come in (incident, sequence) order, so
// each run of whole incidents is decoded and projected on its own, on all
// cores, and copied into dst while the next is read; memory stays a few
// chunks whatever the ledger's length. The rows are those Project gives
// for all the entries at once, since every projection is per incident.
// progress, if set, is told the entries read so far.
func Rebuild(ctx context.Context, src Querier, dst Writer, upTo int64, progress func(read int64)) (Rebuilt, error) {
	var got Rebuilt
	g, ctx := errgroup.WithContext(ctx)
	chunks := make(chan []auditlog.Entry, 2)
	sets := make(chan projected, 2)
	g.Go(func() error {
		defer close(chunks)
		return readChunks(ctx, src, upTo, chunks, func(n int64) {
			got.Read = n
			if progress != nil {
				progress(n)
			}
		})
	})
	workers := max(runtime.GOMAXPROCS(0), 1)
	var projectors errgroup.Group
	for range workers {
		projectors.Go(func() error {
			for chunk := range chunks {
				select {
				case sets <- projectChunk(chunk):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := projectors.Wait()
		close(sets)
		return err
	})
	g.Go(func() error {
		for p := range sets {
			got.Used += p.used
			got.Unreadable += p.unreadable
			if err := Write(ctx, dst, p.set); err != nil {
				return err
			}
		}
		return nil
	})
	return got, g.Wait()
}

type projected struct {
	set              Set
	used, unreadable int64
}

func projectChunk(chunk []auditlog.Entry) projected {
	facts, unreadable := fastFactsOfEntries(chunk)
	return projected{set: Project(facts), used: int64(len(facts)), unreadable: int64(unreadable)}
}

// readChunks streams the entries in (incident, sequence) order and cuts
// them into chunks of whole incidents. Only the columns the projections
// read are fetched; entries of types no projection reads are counted and
// dropped here, undecoded.
func readChunks(ctx context.Context, q Querier, upTo int64, out chan<- []auditlog.Entry, progress func(int64)) error {
	if upTo <= 0 {
		upTo = 1<<63 - 1
	}
	rows, err := q.Query(ctx, `SELECT event_id, event_type, incident_id, event FROM ledger.entries
		WHERE seq <= $1 ORDER BY incident_id, seq`, upTo)
	if err != nil {
		return fmt.Errorf("reading ledger entries: %w", err)
	}
	defer rows.Close()
	var read int64
	var chunk []auditlog.Entry
	for rows.Next() {
		var e auditlog.Entry
		if err := rows.Scan(&e.EventID, &e.EventType, &e.IncidentID, &e.Event); err != nil {
			return fmt.Errorf("scanning ledger entry: %w", err)
		}
		read++
		if len(chunk) >= rebuildChunk && chunk[len(chunk)-1].IncidentID != e.IncidentID {
			select {
			case out <- chunk:
			case <-ctx.Done():
				return ctx.Err()
			}
			chunk = make([]auditlog.Entry, 0, rebuildChunk+64)
			progress(read - 1)
		}
		if _, projected := readers[events.Type(e.EventType)]; projected {
			chunk = append(chunk, e)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading ledger entries: %w", err)
	}
	if len(chunk) > 0 {
		out <- chunk
	}
	progress(read)
	return nil
}

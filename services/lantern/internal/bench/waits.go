package bench

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
)

// WaitProfile counts, over many samples, what PostgreSQL's backends for
// Lantern's database were doing: running, waiting on a lock or on the WAL
// flush, or idle inside a transaction waiting for the service to send its
// next statement. It is the profile that says where a commit's time goes,
// which a CPU profile of the services cannot show.
type WaitProfile struct {
	Samples int
	Counts  map[string]int
}

// SampleWaits samples every interval until the returned function is
// called, which returns the profile.
func SampleWaits(ctx context.Context, pool *pgxpool.Pool, interval time.Duration) func() WaitProfile {
	ctx, cancel := context.WithCancel(ctx)
	profile := WaitProfile{Counts: map[string]int{}}
	stop := clock.Every(interval, func() {
		if sampleWaits(ctx, pool, profile.Counts) == nil {
			profile.Samples++
		}
	})
	return func() WaitProfile {
		// Cancelling first ends a sample's query under way.
		cancel()
		stop()
		return profile
	}
}

func sampleWaits(ctx context.Context, pool *pgxpool.Pool, counts map[string]int) error {
	rows, err := pool.Query(ctx, `SELECT state, coalesce(wait_event_type || ':' || wait_event, 'on CPU'), query
		FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var state, wait, query string
		if err := rows.Scan(&state, &wait, &query); err != nil {
			return err
		}
		counts[state+", "+wait+", "+statement(query)]++
	}
	return rows.Err()
}

// statement names a query by its first words, enough to tell an insert
// into one table from a commit, without any of its values.
func statement(query string) string {
	words := strings.Fields(query)
	return strings.Join(words[:min(len(words), 4)], " ")
}

// Top lists the n most frequent states with their share of backend
// samples, most frequent first.
func (p WaitProfile) Top(n int) []string {
	total := 0
	for _, c := range p.Counts {
		total += c
	}
	keys := slices.SortedFunc(maps.Keys(p.Counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(p.Counts[b], p.Counts[a]), cmp.Compare(a, b))
	})
	var out []string
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, fmt.Sprintf("%s %.0f%%", k, 100*float64(p.Counts[k])/float64(max(total, 1))))
	}
	return out
}

package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/simulate"
)

// Outcome is how one accepted incident fared, from Lantern's own records:
// the intake's receipt, the router's case and the delivery inboxes.
// ReadOutcomes fills the fields by position, in the order they are
// declared.
type Outcome struct {
	IncidentID string
	Accepted   time.Time
	Routed     time.Time
	// Done is when the last of the incident's notices reached its inbox,
	// or when it was routed if it needed none.
	Done    time.Time
	Notices int
}

// Latency is how long the incident took from accepted to done.
func (o Outcome) Latency() time.Duration { return o.Done.Sub(o.Accepted) }

// Progress counts what has happened to the incidents accepted since a
// moment.
type Progress struct {
	Accepted, Routed, Requested, Delivered int
}

// Settled reports whether every accepted incident was routed and every
// requested notice delivered.
func (p Progress) Settled() bool {
	return p.Routed == p.Accepted && p.Delivered == p.Requested
}

// ReadProgress counts cheaply, so that it can be polled while the pipeline
// is under load.
func ReadProgress(ctx context.Context, pool *pgxpool.Pool, since time.Time) (Progress, error) {
	var p Progress
	err := pool.QueryRow(ctx, `WITH i AS (SELECT incident_id FROM intake.incidents WHERE received_at >= $1)
		SELECT (SELECT count(*) FROM i),
		       (SELECT count(*) FROM router.cases JOIN i USING (incident_id)),
		       (SELECT count(*) FROM router.notifications JOIN i USING (incident_id)),
		       (SELECT count(*) FROM delivery.inbox JOIN i USING (incident_id))`, since).
		Scan(&p.Accepted, &p.Routed, &p.Requested, &p.Delivered)
	if err != nil {
		return Progress{}, fmt.Errorf("reading progress: %w", err)
	}
	return p, nil
}

// settlePoll is how often WaitSettled counts. Counting costs PostgreSQL
// work that competes with the pipeline, and the figures come from recorded
// timestamps, not from when the count noticed, so once a second is enough.
const settlePoll = time.Second

// WaitSettled polls until every incident accepted since the moment has
// every notice delivered, or the timeout passes.
func WaitSettled(ctx context.Context, pool *pgxpool.Pool, since time.Time, timeout time.Duration) (Progress, error) {
	deadline := time.Now().Add(timeout)
	for {
		p, err := ReadProgress(ctx, pool, since)
		if err != nil {
			return p, err
		}
		if p.Settled() {
			return p, nil
		}
		if time.Now().After(deadline) {
			return p, fmt.Errorf("not settled within %s: %+v", timeout, p)
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(settlePoll):
		}
	}
}

// ReadOutcomes returns every incident accepted since the moment, once
// settled.
func ReadOutcomes(ctx context.Context, pool *pgxpool.Pool, since time.Time) ([]Outcome, error) {
	rows, err := pool.Query(ctx, `SELECT i.incident_id::text, i.received_at, c.recorded_at,
			greatest(c.recorded_at, d.last_delivered), coalesce(n.decided, 0)
		FROM intake.incidents i
		JOIN router.cases c ON c.incident_id = i.incident_id
		LEFT JOIN (SELECT incident_id, count(*) AS decided FROM router.notifications GROUP BY incident_id) n
			ON n.incident_id = i.incident_id
		LEFT JOIN (SELECT incident_id, max(delivered_at) AS last_delivered FROM delivery.inbox GROUP BY incident_id) d
			ON d.incident_id = i.incident_id
		WHERE i.received_at >= $1 ORDER BY i.received_at`, since)
	if err != nil {
		return nil, fmt.Errorf("reading outcomes: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Outcome])
	if err != nil {
		return nil, fmt.Errorf("reading outcomes: %w", err)
	}
	return out, nil
}

// Summary is the distribution of a set of outcomes.
type Summary struct {
	Incidents, Notices int
	// First and Last bound the acceptances; Finished is when the last
	// incident was done.
	First, Last, Finished time.Time
	// EndToEnd and Routing hold the p50, p90, p99 and maximum of accepted
	// to done, and of accepted to routed.
	EndToEnd, Routing [4]time.Duration
}

// Summarise computes the distribution of outcomes.
func Summarise(outcomes []Outcome) Summary {
	s := Summary{Incidents: len(outcomes)}
	if len(outcomes) == 0 {
		return s
	}
	e2e := make([]time.Duration, len(outcomes))
	routing := make([]time.Duration, len(outcomes))
	s.First, s.Last, s.Finished = outcomes[0].Accepted, outcomes[0].Accepted, outcomes[0].Done
	for i, o := range outcomes {
		s.Notices += o.Notices
		e2e[i], routing[i] = o.Latency(), o.Routed.Sub(o.Accepted)
		s.First, s.Last = earliest(s.First, o.Accepted), latest(s.Last, o.Accepted)
		s.Finished = latest(s.Finished, o.Done)
	}
	s.EndToEnd, s.Routing = quantiles(e2e), quantiles(routing)
	return s
}

// Throughput is incidents per second from the first acceptance to the last
// incident done: the rate the whole pipeline sustained.
func (s Summary) Throughput() float64 {
	span := s.Finished.Sub(s.First).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(s.Incidents) / span
}

func quantiles(d []time.Duration) [4]time.Duration {
	slices.Sort(d)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(d))+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return [4]time.Duration{at(0.5), at(0.9), at(0.99), d[len(d)-1]}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// StageDelays returns the p50 and p99 of each outbox's wait between commit
// and publish since the moment, by service: how long relays hold events.
func StageDelays(ctx context.Context, pool *pgxpool.Pool, since time.Time) (map[string][2]time.Duration, error) {
	out := map[string][2]time.Duration{}
	for _, schema := range []string{"intake", "router", "delivery"} {
		var p50, p99 float64
		err := pool.QueryRow(ctx, `SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY d), 0),
				coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY d), 0)
			FROM (SELECT extract(epoch FROM published_at - created_at) AS d FROM `+schema+`.outbox
				WHERE created_at >= $1 AND published_at IS NOT NULL) s`, since).Scan(&p50, &p99)
		if err != nil {
			return nil, fmt.Errorf("reading %s outbox delays: %w", schema, err)
		}
		out[schema] = [2]time.Duration{seconds(p50), seconds(p99)}
	}
	return out, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Feed posts a simulated feed to the cluster's intake and returns what the
// intake answered.
func Feed(ctx context.Context, baseURL, token string, gen *simulate.Generator, plan simulate.Plan) (*simulate.Stats, error) {
	sender := simulate.NewSender(baseURL, token, plan.Concurrency)
	next := func() (simulate.Notice, error) { return gen.Next(), nil }
	return simulate.Drive(ctx, plan, next, sender.Send, nil)
}

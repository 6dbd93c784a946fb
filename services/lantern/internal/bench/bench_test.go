package bench_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/bench"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/simulate"
)

// The benchmarks run in the order they are written, each once
// (-benchtime=1x): the machine's raw rates first, then Lantern, then a
// summary that prints Lantern's figures as ratios of the raw ones.

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	results = &bench.Results{}
	// loadAtStart is the machine's load before the run adds its own.
	loadAtStart = bench.LoadAverage()
)

// Workload sizes. A machine that meets the targets runs them in about five
// minutes; one that does not waits for each backlog to drain, which the
// 10,000-notice Monday backlog makes the longest phase. They are kept small
// enough for `make bench` to stay near ten minutes on a shared two-core
// machine at about 40 incidents a second.
const (
	rawSyncMessages   = 3000
	rawAsyncMessages  = 10000
	rawTimedMessages  = 50000
	rawSingleRows     = 1500
	rawConcurrentRows = 6000
	rawBatchRows      = 30000
	floorRate         = 20
	floorSeconds      = 10
	steadyLowRate     = 200
	steadyLowSeconds  = 10
	steadyHighRate    = 1000
	steadyHighSeconds = 3
	backlogIncidents  = 10000
	historyIncidents  = 3000
	feedConcurrency   = 64
)

func BenchmarkRawJetStreamPublish(b *testing.B) {
	r := newRawStream(b)
	b.Run("sync", func(b *testing.B) {
		for i := range b.N {
			rate := r.publishSync(b, i*rawSyncMessages, rawSyncMessages)
			b.ReportMetric(rate, "msgs/s")
			results.Add("raw JetStream publish, one at a time", rate, "msgs/s")
		}
	})
	b.Run("async-256", func(b *testing.B) {
		for i := range b.N {
			rate := r.publishAsync(b, 1_000_000+i*rawAsyncMessages, rawAsyncMessages)
			b.ReportMetric(rate, "msgs/s")
			results.Add("raw JetStream publish, 256 in flight", rate, "msgs/s")
		}
	})
	// The same with the store synced on make run's timer
	// (LANTERN_NATS_SYNC_INTERVAL), which the pipeline phases run with.
	timed := newRawStream(b, syncOnTimer)
	b.Run("async-256-sync-interval", func(b *testing.B) {
		for i := range b.N {
			rate := timed.publishAsync(b, i*rawTimedMessages, rawTimedMessages)
			b.ReportMetric(rate, "msgs/s")
			results.Add("raw JetStream publish, 256 in flight, sync_interval "+natsembed.DefaultSyncInterval.String(), rate, "msgs/s")
		}
	})
}

func BenchmarkRawJetStreamConsume(b *testing.B) {
	r := newRawStream(b)
	r.publishAsync(b, 0, rawAsyncMessages)
	for _, tc := range []struct {
		name   string
		double bool
		label  string
	}{
		{"ack", false, "raw JetStream consume, explicit ack"},
		{"double-ack", true, "raw JetStream consume, DoubleAck (as Lantern acknowledges)"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := range b.N {
				rate := r.consume(b, fmt.Sprintf("%s-%d", tc.name, i), rawAsyncMessages, tc.double)
				b.ReportMetric(rate, "msgs/s")
				results.Add(tc.label, rate, "msgs/s")
			}
		})
	}
}

func BenchmarkRawPostgresInsert(b *testing.B) {
	pool := rawTable(b)
	b.Run("single-row", func(b *testing.B) {
		for range b.N {
			rate := insertRows(b, pool, rawSingleRows, 1)
			b.ReportMetric(rate, "rows/s")
			results.Add("raw PostgreSQL insert, one row per commit, 1 connection", rate, "rows/s")
		}
	})
	b.Run("single-row-16-connections", func(b *testing.B) {
		for range b.N {
			rate := insertRows(b, pool, rawConcurrentRows, 16)
			b.ReportMetric(rate, "rows/s")
			results.Add("raw PostgreSQL insert, one row per commit, 16 connections", rate, "rows/s")
		}
	})
	b.Run("batch-100", func(b *testing.B) {
		for range b.N {
			rate := insertBatches(b, pool, rawBatchRows, 100)
			b.ReportMetric(rate, "rows/s")
			results.Add("raw PostgreSQL insert, 100 rows per commit", rate, "rows/s")
		}
	})
}

// BenchmarkRelay measures one outbox relay alone: relayRows events of
// about a kilobyte committed to an outbox, then drained by RelayOnce
// rounds into an in-process broker that syncs every write, and again into
// one that syncs on make run's timer.
func BenchmarkRelay(b *testing.B) {
	for _, tc := range []struct {
		name, label string
		opts        []natstest.Option
	}{
		{"sync-always", "sync always", nil},
		{"sync-interval", "sync_interval " + natsembed.DefaultSyncInterval.String(), []natstest.Option{syncOnTimer}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				rate := relayRate(b, tc.opts...)
				b.ReportMetric(rate, "events/s")
				results.Add("outbox relay alone, "+tc.label, rate, "events/s")
			}
		})
	}
}

// BenchmarkSteadyRates feeds live incidents at fixed rates: 20 a second for
// the latency of an unloaded pipeline, 200 a second for the latency
// target, then 1,000 a second for the throughput target.
func BenchmarkSteadyRates(b *testing.B) {
	c := cluster.New(b, cluster.Options{})
	live := simulate.Live{Clock: clock.System}
	b.Run("20-per-second", func(b *testing.B) {
		p := &phase{name: "20/s", gen: newFeed(b, 20, "steady20", live),
			plan: simulate.Plan{Rate: floorRate, Count: floorRate * floorSeconds, Concurrency: feedConcurrency}}
		p.run(b, c)
		results.Add("20/s: end to end p99, the latency floor", ms(p.summary.EndToEnd[2]), "ms")
	})
	b.Run("200-per-second", func(b *testing.B) {
		p := &phase{name: "200/s", gen: newFeed(b, 200, "steady200", live),
			plan: simulate.Plan{Rate: steadyLowRate, Count: steadyLowRate * steadyLowSeconds, Concurrency: feedConcurrency}}
		p.run(b, c)
		p99 := ms(p.summary.EndToEnd[2])
		results.AddTarget("200/s: end to end p99 (accepted to every notice delivered)", p99, "ms", "< 250 ms", p99 < 250)
	})
	b.Run("1000-per-second", func(b *testing.B) {
		p := &phase{name: "1000/s", gen: newFeed(b, 1000, "steady1000", live),
			plan: simulate.Plan{Rate: steadyHighRate, Count: steadyHighRate * steadyHighSeconds, Concurrency: feedConcurrency}}
		p.run(b, c)
		rate := p.summary.Throughput()
		results.AddTarget("1000/s: sustained pipeline throughput", rate, "incidents/s", ">= 1,000/s", rate >= 1000)
		results.Add("1000/s: end to end p99", ms(p.summary.EndToEnd[2]), "ms")
	})
}

// BenchmarkMondayBacklog sends a weekend's notices at once, as fast as the
// intake takes them, then replays the resulting history.
func BenchmarkMondayBacklog(b *testing.B) {
	c := cluster.New(b, cluster.Options{})
	b.Run("10000-at-once", func(b *testing.B) {
		weekend := &simulate.Burst{End: time.Now(), Window: simulate.WeekendWindow, Count: backlogIncidents,
			Season: simulate.Season{Holidays: reference(b).Holidays()}}
		p := &phase{name: "backlog", gen: newFeed(b, 10000, "monday", weekend),
			plan: simulate.Plan{Count: backlogIncidents, Concurrency: feedConcurrency}}
		p.run(b, c)
		took := p.summary.Finished.Sub(p.summary.First).Seconds()
		results.AddTarget("backlog: 10,000 notices fully delivered in", took, "s", "< 30 s", took < 30)
		results.Add("backlog: end to end p99", ms(p.summary.EndToEnd[2]), "ms")
	})
	events := waitConsumersIdle(b, c)
	results.Add("backlog: events in the stream and ledger", float64(events), "events")
	for _, from := range []string{"ledger", "stream"} {
		b.Run("replay-from-"+from, func(b *testing.B) {
			target := pgtest.NewDatabase(b, "bench-replay-empty", nil)
			out, took := lantern(b, c, "audit", "replay", "--from", from, "--target-database-url", target, "--no-compare")
			rate := float64(replayedEvents(b, out)) / took.Seconds()
			b.ReportMetric(rate, "events/s")
			results.AddTarget("replay from the "+from, rate, "events/s", ">= 100,000/s", rate >= 100000)
		})
	}
}

// BenchmarkYearOfHistory feeds a year of incidents, then times the
// timeliness report over that year.
func BenchmarkYearOfHistory(b *testing.B) {
	c := cluster.New(b, cluster.Options{})
	start := time.Now().AddDate(-1, 0, 0)
	history := &simulate.History{Start: start, PerDay: historyIncidents / 350.0, Season: simulate.Season{Holidays: reference(b).Holidays()}}
	p := &phase{name: "year", gen: newFeed(b, 365, "year", history),
		plan: simulate.Plan{Count: historyIncidents, Concurrency: feedConcurrency}}
	p.run(b, c)
	waitConsumersIdle(b, c)
	from := calendar.DateOf(start.In(calendar.London)).String()
	to := calendar.DateOf(time.Now().In(calendar.London)).String()
	for _, format := range []string{"json", "html"} {
		b.Run("report-"+format, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "report."+format)
			_, took := lantern(b, c, "audit", "report", "--from", from, "--to", to, "--format", format, "--out", out)
			b.ReportMetric(took.Seconds(), "s")
			results.Add("report over a year ("+format+", "+fmt.Sprint(historyIncidents)+" incidents)", took.Seconds(), "s")
		})
	}
}

// BenchmarkSummary prints every figure of the run, with the machine, and
// writes them to BENCH_SUMMARY if that names a file.
func BenchmarkSummary(b *testing.B) {
	results.Ratio("ratio: intake acceptance at saturation / raw single-row commits (16 connections)",
		"backlog: intake acceptance rate", "raw PostgreSQL insert, one row per commit, 16 connections")
	results.Ratio("ratio: pipeline throughput at saturation / raw JetStream consume with DoubleAck",
		"backlog: pipeline throughput (first accepted to last delivered)", "raw JetStream consume, DoubleAck (as Lantern acknowledges)")
	results.Ratio("ratio: pipeline throughput at saturation / raw JetStream publish, 256 in flight",
		"backlog: pipeline throughput (first accepted to last delivered)", "raw JetStream publish, 256 in flight")
	results.Ratio("ratio: replay from the stream / raw JetStream consume, explicit ack",
		"replay from the stream", "raw JetStream consume, explicit ack")
	results.Ratio("ratio: replay from the ledger / raw PostgreSQL insert, 100 rows per commit",
		"replay from the ledger", "raw PostgreSQL insert, 100 rows per commit")
	m := bench.Describe(context.Background(), rawTable(b))
	m.LoadAverage = loadAtStart
	results.Write(os.Stdout, m)
	if path := os.Getenv("BENCH_SUMMARY"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		results.Write(f, m)
	}
}

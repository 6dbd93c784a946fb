package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/bench"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/ledger/ingest"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// nationalDefault is a national year: about 1,300 child notifications a
// day in England and Wales, rounded up to 500,000 incidents (about 4.8 M
// events). BENCH_NATIONAL_INCIDENTS sets another size.
const nationalDefault = 500_000

// nationalBatch is how many incidents the load appends per transaction.
const nationalBatch = 250

func nationalIncidents(b *testing.B) int {
	b.Helper()
	v := os.Getenv("BENCH_NATIONAL_INCIDENTS")
	if v == "" {
		return nationalDefault
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("BENCH_NATIONAL_INCIDENTS=%q: want a positive number of incidents", v)
	}
	return n
}

// BenchmarkNationalYear loads a national year of incidents straight into
// the ledger of a running cluster through the ledger's own bulk append
// path (sealed, chained and projected as the live service does it), then
// times the timeliness report over the year and a replay of the whole
// ledger compared with the live projections, each command run as its own
// process so that its peak memory is its own.
func BenchmarkNationalYear(b *testing.B) {
	c := cluster.New(b, cluster.Options{})
	n := nationalIncidents(b)
	end := time.Now().Truncate(24 * time.Hour)
	start := end.AddDate(-1, 0, 0)
	var events int64
	b.Run("load", func(b *testing.B) {
		bench.ResetPeaks()
		began := time.Now()
		events = loadNational(b, c, n, start, end.Sub(start)/time.Duration(n))
		took := time.Since(began)
		results.Add(fmt.Sprintf("national year: %d incidents loaded into the ledger", n), float64(events), "events")
		results.Add("national year: bulk append rate (sealed, chained, projected)", float64(events)/took.Seconds(), "events/s")
		notePeaks("national year, load", bench.ReadPeaks())
	})
	from := calendar.DateOf(start.In(calendar.London)).String()
	to := calendar.DateOf(end.Add(-time.Hour).In(calendar.London)).String()
	for _, format := range []string{"json", "html"} {
		b.Run("report-"+format, func(b *testing.B) {
			bench.ResetPeaks()
			out := filepath.Join(b.TempDir(), "report."+format)
			_, took, rss := lanternProcess(b, c, "audit", "report", "--from", from, "--to", to, "--format", format, "--out", out)
			results.AddTarget("national year: report over the year ("+format+")", took.Seconds(), "s", "< 30 s", took < 30*time.Second)
			results.Add("national year: peak RSS of lantern audit report ("+format+")", bench.MB(rss), "MB")
			notePeaks("national year, report "+format, bench.ReadPeaks())
		})
	}
	b.Run("replay", func(b *testing.B) {
		bench.ResetPeaks()
		target := pgtest.NewDatabase(b, "bench-national-replay", nil)
		out, took, rss := lanternProcess(b, c, "audit", "replay", "--from", "ledger", "--target-database-url", target)
		read := replayedEvents(b, out)
		rebuilt := rebuildTime(b, out)
		rate := float64(read) / took.Seconds()
		results.AddTarget("national year: replay from the ledger, whole command (verify, rebuild, digest both, compare)", rate, "events/s", ">= 100,000/s", rate >= 100000)
		results.Add("national year: replay from the ledger, rebuild alone", float64(read)/rebuilt.Seconds(), "events/s")
		results.Add("national year: peak RSS of lantern audit replay", bench.MB(rss), "MB")
		notePeaks("national year, replay", bench.ReadPeaks())
		if int64(read) < events {
			b.Errorf("replay read %d events of the %d loaded", read, events)
		}
	})
}

// loadNational appends n simulated incidents spread evenly from start,
// every apart, in batches on two connections, and returns the events
// appended.
func loadNational(b *testing.B, c *cluster.Cluster, n int, start time.Time, every time.Duration) int64 {
	b.Helper()
	ctx := context.Background()
	spec, _ := strings.CutPrefix(c.KEKEnv(), sealed.EnvKEK+"=")
	kek, err := sealed.ParseKEK(ctx, spec)
	if err != nil {
		b.Fatal(err)
	}
	app := ingest.New(c.Pool, sealed.New(c.Pool, sealed.NewKeyring(kek), clock.System), clock.System)
	var next, appended atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for range 2 {
		g.Go(func() error {
			for {
				first := int(next.Add(nationalBatch)) - nationalBatch
				if first >= n {
					return nil
				}
				count := min(nationalBatch, n-first)
				at := start.Add(time.Duration(first) * every)
				batch := received(projectiontest.SimulateRange(b, first+1, count, at, every, uint64(first)))
				added, err := app.Append(ctx, batch)
				if err != nil {
					return err
				}
				appended.Add(int64(len(added)))
			}
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return appended.Load()
}

func received(incidents []*projectiontest.Incident) []ingest.Received {
	var out []ingest.Received
	for _, p := range projectiontest.All(incidents) {
		out = append(out, ingest.Received{Event: p.Event, Subject: p.Subject})
	}
	return out
}

// lanternProcess runs the cluster's lantern binary and returns what it
// printed, how long it took and its peak resident set in bytes.
func lanternProcess(b *testing.B, c *cluster.Cluster, args ...string) (string, time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(cluster.Binary("lantern"), args...)
	cmd.Env = append(os.Environ(), c.Env()...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		b.Fatalf("lantern %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10
	}
	return out.String(), took, rss
}

var rebuiltPattern = regexp.MustCompile(`Rebuilt the projections in (\S+)`)

// rebuildTime reads how long the replay took to rebuild the projections.
func rebuildTime(b *testing.B, out string) time.Duration {
	b.Helper()
	m := rebuiltPattern.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("replay did not say how long it took to rebuild:\n%s", out)
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// notePeaks records a phase's peak memory, each process against the
// 150 MB every service is held to.
func notePeaks(phase string, m bench.Memory) {
	results.Note("%s: peak RSS: %s", phase, m.Line())
	for _, name := range m.Largest() {
		if name == "postgres" || strings.HasPrefix(name, "load generator") {
			continue
		}
		results.AddTarget(phase+": peak RSS of "+name, bench.MB(m[name]), "MB", "< 150 MB", bench.MB(m[name]) < 150)
	}
}

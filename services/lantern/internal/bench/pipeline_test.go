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
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/bench"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cli"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/simulate"
)

// settleTimeout bounds the wait for a phase's last notice.
const settleTimeout = 5 * time.Minute

// reference is the shipped sample reference data, which the cluster routes
// with and the feeds draw from.
func reference(b *testing.B) *refdata.Set {
	b.Helper()
	set, err := refdata.Load(filepath.Join(cluster.Root(), "reference"))
	if err != nil {
		b.Fatal(err)
	}
	return set
}

func newFeed(b *testing.B, seed uint64, tag string, times simulate.Times) *simulate.Generator {
	b.Helper()
	g, err := simulate.New(simulate.Config{Seed: seed, Mix: simulate.DefaultMix(), Reference: reference(b),
		Force: "SIM", RunTag: tag, Times: times})
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// phase is one measured feed into a running cluster.
type phase struct {
	name    string
	plan    simulate.Plan
	gen     *simulate.Generator
	stats   *simulate.Stats
	summary bench.Summary
	cpu     bench.CPU
	waits   bench.WaitProfile
	elapsed time.Duration
}

// run posts the phase's feed, waits until every notice is delivered, and
// reads the outcome from Lantern's own records.
func (p *phase) run(b *testing.B, c *cluster.Cluster) {
	b.Helper()
	ctx := context.Background()
	since := time.Now()
	cpuBefore := bench.ReadCPU()
	bench.ResetPeaks()
	stopPerf := perfRecord(b, p.name)
	stopWaits := bench.SampleWaits(ctx, c.Pool, 50*time.Millisecond)
	stats, err := bench.Feed(ctx, c.BaseURL, cluster.PoliceToken, p.gen, p.plan)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := bench.WaitSettled(ctx, c.Pool, since, settleTimeout); err != nil {
		b.Fatal(err)
	}
	p.elapsed = time.Since(since)
	p.waits = stopWaits()
	stopPerf()
	p.cpu = bench.ReadCPU().Since(cpuBefore)
	notePeaks(p.name, bench.ReadPeaks())
	outcomes, err := bench.ReadOutcomes(ctx, c.Pool, since)
	if err != nil {
		b.Fatal(err)
	}
	p.stats, p.summary = stats, bench.Summarise(outcomes)
	if failed := stats.Failed(); failed > 0 {
		b.Errorf("%s: %d of %d notices were not accepted", p.name, failed, stats.Sent())
	}
	p.record(b, c)
}

// record reports the phase's figures to the benchmark and the summary.
func (p *phase) record(b *testing.B, c *cluster.Cluster) {
	b.Helper()
	s := p.summary
	accepted := float64(s.Incidents) / max(p.stats.Elapsed().Seconds(), 1e-9)
	b.ReportMetric(accepted, "accepted/s")
	b.ReportMetric(s.Throughput(), "incidents/s")
	b.ReportMetric(ms(s.EndToEnd[2]), "p99-ms")
	b.ReportMetric(ms(s.EndToEnd[0]), "p50-ms")
	results.Add(p.name+": incidents accepted", float64(s.Incidents), "incidents")
	results.Add(p.name+": notices delivered", float64(s.Notices), "notices")
	results.Add(p.name+": intake acceptance rate", accepted, "incidents/s")
	results.Add(p.name+": pipeline throughput (first accepted to last delivered)", s.Throughput(), "incidents/s")
	results.Add(p.name+": POST latency p99", ms(p.stats.Latency(0.99)), "ms")
	results.Add(p.name+": accepted to routed p50", ms(s.Routing[0]), "ms")
	results.Add(p.name+": accepted to routed p99", ms(s.Routing[2]), "ms")
	results.Add(p.name+": end to end p50", ms(s.EndToEnd[0]), "ms")
	results.Add(p.name+": end to end p90", ms(s.EndToEnd[1]), "ms")
	results.Add(p.name+": end to end max", ms(s.EndToEnd[3]), "ms")
	if delays, err := bench.StageDelays(context.Background(), c.Pool, p.summary.First); err == nil {
		results.Note("%s: outbox commit-to-publish p50/p99: intake %s/%s, router %s/%s, delivery %s/%s", p.name,
			delays["intake"][0], delays["intake"][1], delays["router"][0], delays["router"][1],
			delays["delivery"][0], delays["delivery"][1])
	}
	results.Note("%s: what PostgreSQL's backends were doing (state, wait, statement: share of %d samples): %s",
		p.name, p.waits.Samples, strings.Join(p.waits.Top(10), "; "))
	results.Note("%s: CPU used over %s (2 cores = %s available): %s", p.name, p.elapsed.Round(time.Millisecond),
		(2 * p.elapsed).Round(time.Second), cpuLine(p.cpu))
}

func cpuLine(cpu bench.CPU) string {
	var parts []string
	for _, name := range cpu.Busiest() {
		parts = append(parts, fmt.Sprintf("%s %.1fs", name, cpu[name].Seconds()))
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// waitConsumersIdle waits until every consumer of the events stream,
// the ledger's above all, has handled everything published.
func waitConsumersIdle(b *testing.B, c *cluster.Cluster) int {
	b.Helper()
	nc := c.ConnectNATS(natsauth.Provisioner)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stream, err := js.Stream(ctx, bus.EventsStream)
	if err != nil {
		b.Fatal(err)
	}
	var msgs int
	natstest.CheckFor(b, settleTimeout, 200*time.Millisecond, func() error {
		if busy := busyConsumers(ctx, b, c, stream); len(busy) > 0 {
			return fmt.Errorf("consumers are still busy: %s", strings.Join(busy, ", "))
		}
		info, err := stream.Info(ctx)
		if err != nil {
			return err
		}
		msgs = int(info.State.Msgs)
		return nil
	})
	return msgs
}

// busyConsumers names each consumer of stream that a service running in c
// reads and that has messages still to deliver or to be acknowledged, and
// how many: a wait that runs out says which stage is behind. Provisioning
// declares the durables of every service, and those of services c does not
// run fill up without ever being read.
func busyConsumers(ctx context.Context, b *testing.B, c *cluster.Cluster, stream jetstream.Stream) []string {
	lister := stream.ListConsumers(ctx)
	var busy []string
	for info := range lister.Info() {
		if cons, ok := events.ConsumerOf(info.Name); !ok || !c.Started(cons.Service) {
			continue
		}
		if info.NumPending > 0 || info.NumAckPending > 0 {
			busy = append(busy, fmt.Sprintf("%s (%d pending, %d awaiting ack)", info.Name, info.NumPending, info.NumAckPending))
		}
	}
	if err := lister.Err(); err != nil {
		b.Fatal(err)
	}
	return busy
}

// lantern runs a `lantern` command in this process against the cluster and
// returns what it printed and how long it took.
func lantern(b *testing.B, c *cluster.Cluster, args ...string) (string, time.Duration) {
	b.Helper()
	b.Setenv("DATABASE_URL", c.DatabaseURL)
	b.Setenv("NATS_URL", c.NATSURL)
	b.Setenv("LANTERN_NATS_CREDS_DIR", c.CredsDir)
	b.Setenv("LANTERN_REFERENCE_DIR", filepath.Join(cluster.Root(), "reference"))
	var out, errOut bytes.Buffer
	start := time.Now()
	code := cli.Run(context.Background(), args, &out, &errOut)
	elapsed := time.Since(start)
	if code != 0 {
		b.Fatalf("lantern %s exited %d:\n%s\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	return out.String(), elapsed
}

var replayedPattern = regexp.MustCompile(`Replayed (\d+) events`)

// replayedEvents reads the count `lantern audit replay` reports.
func replayedEvents(b *testing.B, out string) int {
	b.Helper()
	m := replayedPattern.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("replay did not say how many events it read:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// perfRecord samples the cluster's processes with perf while a phase runs,
// when BENCH_PERF_DIR names a folder, and writes each process's hottest
// functions there; it is how the notes in docs/benchmarks.md were made.
func perfRecord(b *testing.B, name string) func() {
	b.Helper()
	dir := os.Getenv("BENCH_PERF_DIR")
	if dir == "" {
		return func() {}
	}
	data := filepath.Join(dir, sanitize(name)+".perf.data")
	cmd := exec.Command("perf", "record", "-F", "199", "-g", "-a", "-o", data)
	if err := cmd.Start(); err != nil {
		b.Logf("perf not started: %v", err)
		return func() {}
	}
	return func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		report := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "comm,sym", "--percent-limit", "0.7")
		out, err := report.Output()
		if err != nil {
			b.Logf("perf report: %v", err)
			return
		}
		_ = os.WriteFile(filepath.Join(dir, sanitize(name)+".perf.txt"), out, 0o644)
	}
}

func sanitize(s string) string {
	return regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(s, "-")
}

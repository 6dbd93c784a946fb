package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

// monthPerDay is the simulated area's incidents on an ordinary day: a
// small force, so that the month runs in a test's time under the race
// detector.
const monthPerDay = 8

// TestSimulatedMonthReplaysIdentically is the audit's acceptance test: a
// month of synthetic incidents goes through the live pipeline (intake,
// router, delivery, escalation, workspace, ledger), MASH workers triage
// half their queues and recipients acknowledge two notices in three through
// the workspace API; then `lantern audit replay` rebuilds every projection
// into empty databases, from the stream and from the ledger, and every
// projection and every report figure must equal the live ones.
func TestSimulatedMonthReplaysIdentically(t *testing.T) {
	services := append(append([]string(nil), cluster.Pipeline...), "escalation", "workspace")
	c := cluster.New(t, cluster.Options{Services: services, Env: []string{"LANTERN_SLA_TICK=200ms"}})
	start, days := simulatedMonth(time.Now())
	simulate(t, c, start, days*monthPerDay)
	settle(t, c)
	worked := workInboxes(t, c)
	if worked.triaged == 0 || worked.acknowledged == 0 {
		t.Fatalf("the month gave nothing to work: %+v", worked)
	}
	t.Logf("month from %s: %d incidents, %d triaged, %d acknowledged", start.Format(time.DateOnly),
		days*monthPerDay, worked.triaged, worked.acknowledged)
	settle(t, c)

	opts := timeliness.Options{From: calendar.DateOf(start), To: calendar.DateOf(time.Now().In(calendar.London)).AddDays(1),
		AsOf: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
	live := snapshot(t, c.Pool, opts)
	assertSubstantial(t, live.report)
	t.Logf("live projections:\n%s", live.digest)
	for _, from := range []string{"stream", "ledger"} {
		t.Run("replay from the "+from, func(t *testing.T) {
			target := pgtest.NewDatabase(t, "month-replay-empty", nil)
			out := runLantern(t, c, "audit", "replay", "--from", from, "--target-database-url", target)
			if !strings.Contains(out, "The replay matches the live projections") {
				t.Errorf("replay output:\n%s", out)
			}
			replayed := snapshot(t, openPool(t, target), opts)
			if diff := cmp.Diff(live.digest, replayed.digest); diff != "" {
				t.Errorf("projection digests (-live +replayed):\n%s", diff)
			}
			if diff := cmp.Diff(live.figures, replayed.figures); diff != "" {
				t.Errorf("report figures (-live +replayed):\n%s", diff)
			}
		})
	}
}

// simulatedMonth is the calendar month two months before now, in London:
// long enough ago that every deadline it sets, even across a school
// holiday, has passed, so that escalation has fired all it will.
func simulatedMonth(now time.Time) (time.Time, int) {
	local := now.In(calendar.London)
	first := time.Date(local.Year(), local.Month()-2, 1, 0, 0, 0, 0, calendar.London)
	return first, first.AddDate(0, 1, -1).Day()
}

// simulate posts count notices of history from start, through the gateway
// as a police force would.
func simulate(t *testing.T, c *cluster.Cluster, start time.Time, count int) {
	t.Helper()
	runLantern(t, c, "simulate", "--url", c.BaseURL, "--token", cluster.PoliceToken,
		"--reference-dir", filepath.Join(cluster.Root(), "reference"), "--start-time", start.Format(time.RFC3339),
		"--per-day", fmt.Sprint(monthPerDay), "--count", fmt.Sprint(count), "--rate", "20", "--concurrency", "4",
		"--seed", "2026", "--run-tag", "month")
}

// runLantern runs the lantern command with the cluster's environment and
// returns what it printed on stdout; it fails the test if the command does.
func runLantern(t *testing.T, c *cluster.Cluster, args ...string) string {
	t.Helper()
	cmd := exec.Command(cluster.Binary("lantern"), args...)
	cmd.Env = append(append(os.Environ(), c.Env()...), "LANTERN_ACTOR=test:auditor")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lantern %s: %v\nstdout:\n%s\nstderr (end):\n%s", args[0], err, stdout.String(), tail(stderr.String(), 2000))
	}
	return stdout.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// state is what a replay must reproduce.
type state struct {
	digest projection.Digest
	report timeliness.Report
	// figures is the report as `lantern audit report --format json`
	// prints it: every figure, breach and month.
	figures string
}

func snapshot(t *testing.T, pool *pgxpool.Pool, opts timeliness.Options) state {
	t.Helper()
	ctx := context.Background()
	digest, err := projection.DigestDatabase(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	report, err := timeliness.Load(ctx, pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	figures, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return state{digest: digest, report: report, figures: string(figures)}
}

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgdb.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// assertSubstantial guards the comparison against passing on an empty
// report: the month must have produced deliveries, acknowledgements and
// breaches for the replay to reproduce.
func assertSubstantial(t *testing.T, r timeliness.Report) {
	t.Helper()
	var rows, counted, breaches, acknowledged int
	for _, th := range r.Themes {
		for _, row := range th.Rows {
			rows++
			counted += row.Count
			if row.ToAcknowledge.Median != nil {
				acknowledged++
			}
		}
		breaches += len(th.Breaches)
	}
	if rows == 0 || counted == 0 || breaches == 0 || acknowledged == 0 {
		t.Fatalf("the live report is too thin to compare: %d rows, %d notices, %d breaches, %d rows with acknowledgements",
			rows, counted, breaches, acknowledged)
	}
	t.Logf("live report: %d rows, %d notices, %d breaches", rows, counted, breaches)
}

package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/golden"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cli"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// run runs the lantern command and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// runJSON runs the lantern command with --format json and decodes what it
// printed.
func runJSON[T any](t *testing.T, args ...string) T {
	t.Helper()
	code, out, errOut := run(t, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errOut)
	}
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decoding the JSON output: %v\n%s", err, out)
	}
	return v
}

// sampleLedger is a ledger holding sampleIncident, named by DATABASE_URL
// for the commands to find.
func sampleLedger(t *testing.T) *pgxpool.Pool {
	t.Helper()
	url, pool := pt.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	pt.Record(t, pool, sampleIncident(t).Events()...)
	return pool
}

// t0 is a Friday evening in November (GMT); t1 is in British Summer Time,
// so that both zones appear in the text.
var (
	t0 = time.Date(2026, 11, 20, 19, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 6, 12, 19, 0, 0, 0, time.UTC)
)

// sampleIncident has two children: C-1 at school, whose key adult
// acknowledges late, and C-2 under five, whose health visitor notice fails;
// a midwifery notice names no child; the MASH triages with an override.
func sampleIncident(t *testing.T) *pt.Incident {
	id := pt.IncidentID(42)
	mash, school, hv, mw := pt.NotificationID(42, 1), pt.NotificationID(42, 2), pt.NotificationID(42, 3), pt.NotificationID(42, 4)
	due := time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	return pt.NewIncident(t, id).
		Reported(t0, "high", true, pt.Child{ID: "C-1", Present: true, Voice: true}, pt.Child{ID: "C-2"}).
		Requested(pt.Request{NotificationID: mash, RuleID: "R1", Kind: events.KindMASH, RecipientID: "E06000035",
			RecipientName: "Medway MASH", ChildIDs: []string{"C-1", "C-2"}, At: t0.Add(5 * time.Second), Due: t0.Add(time.Hour)}).
		Requested(pt.Request{NotificationID: school, RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
			RecipientName: "Example Primary School", ChildIDs: []string{"C-1"}, At: t0.Add(6 * time.Second), Due: due}).
		Requested(pt.Request{NotificationID: mw, RuleID: "R13", Kind: events.KindMidwifery, RecipientID: "MW-1",
			RecipientName: "Medway maternity safeguarding", At: t0.Add(7 * time.Second), Due: t0.Add(4 * time.Hour)}).
		Delivered(mash, t0.Add(9*time.Second)).
		DeliveredBy(school, t0.Add(10*time.Second), events.ChannelReceipt{Channel: "email", AcceptedAt: t0.Add(10 * time.Second),
			ProviderID: "<" + school + "@lantern.test>"}).
		Delivered(mw, t0.Add(11*time.Second)).
		Triaged(mash, events.RAGRed, events.RAGAmber, "unborn child", "mash-worker-7", t0.Add(2*time.Hour)).
		Requested(pt.Request{NotificationID: hv, RuleID: "R11", Kind: events.KindHealthVisiting, RecipientID: "HV-ME",
			RecipientName: "Medway health visiting", ChildIDs: []string{"C-2"}, At: t0.Add(2*time.Hour + time.Minute),
			Due: t0.Add(72 * time.Hour)}).
		Failed(hv, "endpoint refused the notice", t0.Add(3*time.Hour)).
		AtRisk(school, events.StepAcknowledgement, due.Add(-time.Hour)).
		Breached(school, events.StepAcknowledgement, due.Add(time.Minute)).
		Acknowledged(school, "dsl-118234", due.Add(47*time.Minute))
}

func TestAuditTimelineGolden(t *testing.T) {
	url, pool := pt.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("LANTERN_ACTOR", "auditor-1")
	in := sampleIncident(t)
	summer := pt.NewIncident(t, pt.IncidentID(43)).Reported(t1, "standard", false, pt.Child{ID: "C-9"})
	pt.Record(t, pool, append(in.Events(), summer.Events()...)...)

	for _, tc := range []struct{ name, format, incident string }{
		{"timeline.txt.golden", "text", in.ID},
		{"timeline.json.golden", "json", in.ID},
		{"timeline_bst.txt.golden", "text", summer.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "audit", "timeline", tc.incident, "--format", tc.format, "--purpose", "jtai_sample")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden.Check(t, tc.name, []byte(out))
		})
	}
	var recorded int
	err := pool.QueryRow(context.Background(), `SELECT count(*) FROM ledger.consultations
		WHERE actor = 'auditor-1' AND action = 'timeline' AND purpose = 'jtai_sample'`).Scan(&recorded)
	if err != nil || recorded != 3 {
		t.Errorf("consultations recorded = %d (%v), want 3", recorded, err)
	}
}

func TestAuditTimelineOfAnUnknownIncident(t *testing.T) {
	url, _ := pt.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	code, _, errOut := run(t, "audit", "timeline", pt.IncidentID(404))
	if code != 1 || !bytes.Contains([]byte(errOut), []byte("no ledger entries for incident")) {
		t.Errorf("exit %d, stderr %q; want 1 and no ledger entries", code, errOut)
	}
}

func TestAuditCommandsNeedTheirArguments(t *testing.T) {
	cases := [][]string{
		{"audit"},
		{"audit", "nonsense"},
		{"audit", "timeline"},
		{"audit", "timeline", "a", "b"},
		{"audit", "timeline", "a", "--format", "xml"},
		{"audit", "report", "--from", "2026-11-01"},
		{"audit", "report", "--from", "2026-11-31", "--to", "2026-12-01"},
		{"audit", "report", "--from", "2026-12-01", "--to", "2026-11-01"},
		{"audit", "replay", "--from", "somewhere", "--target-database-url", "postgres://x"},
		{"audit", "replay"},
	}
	for _, args := range cases {
		if code, _, _ := run(t, args...); code == 0 {
			t.Errorf("lantern %v exited 0", args)
		}
	}
}

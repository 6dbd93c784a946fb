package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/golden"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

func TestAuditReport(t *testing.T) {
	sampleLedger(t)
	args := []string{"audit", "report", "--from", "2026-11-01", "--to", "2026-11-30", "--as-of", "2026-12-01T00:00:00Z"}

	rep := runJSON[timeliness.Report](t, args...)
	wantTotals := timeliness.Totals{Incidents: 1, Notifications: 4, OnTime: 2, Decided: 4, ShareOnTime: ptr(0.5), Breaches: 2}
	if diff := cmp.Diff(wantTotals, rep.Totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}

	csvPath := filepath.Join(t.TempDir(), "report.csv")
	if code, _, errOut := run(t, append(args, "--format", "csv", "--out", csvPath)...); code != 0 {
		t.Fatalf("csv: exit %d: %s", code, errOut)
	}
	csv, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "report.csv.golden", csv)

	code, out, errOut := run(t, append(args, "--format", "html")...)
	if code != 0 || !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, "<svg") {
		t.Errorf("html: exit %d, %d bytes, stderr %s", code, len(out), errOut)
	}
}

func ptr(f float64) *float64 { return &f }

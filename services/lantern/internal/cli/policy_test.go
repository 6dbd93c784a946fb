package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lantern-safeguarding/lantern/services/router/simulate"
)

// TestPolicySimulate runs lantern policy simulate over a ledger: the
// period's incident is routed again under both policies, in each format,
// and the read is recorded.
func TestPolicySimulate(t *testing.T) {
	pool := sampleLedger(t)
	t.Setenv("LANTERN_ACTOR", "board-analyst")
	root := filepath.Join("..", "..", "..", "..")
	args := []string{"policy", "simulate", "--from", "2026-11-01", "--to", "2026-11-30",
		"--policy", filepath.Join(root, "policy", "samples", "medium-risk-da-service.yaml"),
		"--baseline", filepath.Join(root, "policy", "default.yaml"), "--reference-dir", filepath.Join(root, "reference")}

	rep := runJSON[simulate.Report](t, args...)
	if rep.Incidents != 1 || rep.Totals.Before == 0 || rep.Baseline.Version != "default-2026.1" ||
		rep.Proposed.Version != "sample-medium-risk-da-2027.1" {
		t.Errorf("report %+v", rep)
	}
	htmlPath := filepath.Join(t.TempDir(), "whatif.html")
	if code, _, errOut := run(t, append(args, "--format", "html", "--out", htmlPath)...); code != 0 {
		t.Fatalf("html: exit %d: %s", code, errOut)
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil || !strings.Contains(string(page), "<svg") {
		t.Errorf("html page: %v, %d bytes", err, len(page))
	}
	if code, out, _ := run(t, args...); code != 0 || !strings.Contains(out, "by rule") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "policy", "simulate", "--from", "2026-11-01", "--to", "2026-11-30", "--policy", bad,
		"--baseline", filepath.Join(root, "policy", "default.yaml"), "--reference-dir", filepath.Join(root, "reference")); code != 1 ||
		!strings.Contains(errOut, bad+":") {
		t.Errorf("a refused policy: exit %d, %s", code, errOut)
	}
	var recorded int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM ledger.consultations
		WHERE actor = 'board-analyst' AND action = 'policy_simulate'`).Scan(&recorded); err != nil || recorded < 3 {
		t.Errorf("consultations recorded = %d (%v), want at least 3", recorded, err)
	}
}

package app_test

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// shippedPolicyFile is the default routing policy, the baseline of a
// policy simulation.
const shippedPolicyFile = "../../../../policy/default.yaml"

// TestPolicySimulationFromTheWorkspace: the auditor and the MASH manager
// can try a proposed policy on the period's incidents and get the
// simulation's report; a policy the router would refuse comes back with
// where it is wrong; other roles cannot.
func TestPolicySimulationFromTheWorkspace(t *testing.T) {
	b := setup(t)
	b.recordAudit(auditIncidents(t))
	sample, err := os.ReadFile("../../../../policy/samples/medium-risk-da-service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, username := range []string{"auditor", "mash-manager.e06000035"} {
		t.Run(username, func(t *testing.T) {
			br := b.signIn(username)
			form := br.get("/policy/simulate")
			if form.status != http.StatusOK || !strings.Contains(form.body, `name="policy"`) || !strings.Contains(form.body, `value="2026-11-01"`) {
				t.Fatalf("form: %d\n%s", form.status, form.body)
			}
			r := br.post("/policy/simulate", url.Values{"from": {"2026-11-01"}, "to": {"2026-11-30"}, "policy": {string(sample)}})
			if r.status != http.StatusOK {
				t.Fatalf("simulation: %d\n%s", r.status, r.body)
			}
			for _, want := range []string{"Policy simulation, 2026-11-01 to 2026-11-30", "sample-medium-risk-da-2027.1", "default-2026.1", "<svg"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("the report lacks %q", want)
				}
			}
			bad := strings.Replace(string(sample), `when: "adults.exists(a, a.pregnant)"`, `when: "dash.ticks > 3"`, 1)
			r = br.post("/policy/simulate", url.Values{"from": {"2026-11-01"}, "to": {"2026-11-30"}, "policy": {bad}})
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, "proposed policy:149:16: rules.R13.when: expression column 5: undefined field") {
				t.Errorf("a refused policy: %d\n%s", r.status, r.body)
			}
		})
	}
	for _, username := range []string{"mash-worker.e06000035", "key-adult.118234", "administrator"} {
		if r := b.signIn(username).get("/policy/simulate"); r.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", username, r.status)
		}
	}
}

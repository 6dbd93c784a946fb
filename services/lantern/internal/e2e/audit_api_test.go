package e2e_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// TestAuditAPIWantsAnAuditor asks the ledger's audit API through the
// gateway, as under make run: an auditor signed in at the workspace's
// identity provider reads the report; the police credential, which reads
// its own force's timelines, does not, and nor does any other role.
func TestAuditAPIWantsAnAuditor(t *testing.T) {
	c := cluster.New(t, cluster.Options{Services: append(slices.Clone(cluster.Pipeline), "workspace")})
	p := pipeline{Cluster: c, t: t}
	id := p.accept(cluster.SamplePPN(t))
	p.settled(id, 1)
	report := "/v1/audit/report?from=2026-11-01&to=2026-11-30&format=json"
	timeline := "/v1/audit/incidents/" + id + "/timeline"
	if r := p.get(report); r.Status != http.StatusUnauthorized {
		t.Errorf("report with the police credential: %d, want 401", r.Status)
	}
	asked := map[string]bool{}
	for _, u := range sampleUsers(t, c) {
		if asked[u.Role] {
			continue
		}
		asked[u.Role] = true
		want := http.StatusForbidden
		if u.Role == "auditor" {
			want = http.StatusOK
		}
		token := signIn(t, c, u)
		for _, path := range []string{report, timeline} {
			if r := getWith(t, c, token, path); r != want {
				t.Errorf("%s as %s: %d, want %d", path, u.Role, r, want)
			}
		}
	}
	if !asked["auditor"] {
		t.Error("the sample users have no auditor")
	}
}

func getWith(t *testing.T, c *cluster.Cluster, token, path string) int {
	t.Helper()
	r, err := c.GetAs(token, path)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

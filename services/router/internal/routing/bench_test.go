package routing_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

// partnershipRules writes n rules of the kinds a partnership adds: each
// with a condition over the DASH, the repeat count and the children, some
// with a children selector and a flag, to one declared service.
func partnershipRules(n int) string {
	var b strings.Builder
	b.WriteString("\n")
	levels := []string{ppn.DASHStandard, ppn.DASHMedium, ppn.DASHHigh}
	for i := range n {
		fmt.Fprintf(&b, `  - id: P%d
    purpose: "Partnership rule %d"
    when: "dash.level == '%s' && (same_parties_incidents >= %d || dash.yes_count.orValue(0) >= %d) && adults.exists(a, a.role == 'victim')"
`, i, i, levels[i%3], 1+i%3, 5+i%10)
		if i%2 == 0 {
			fmt.Fprintf(&b, "    children: \"child.age <= %d && child.education in ['school', 'none', 'early_years']\"\n", 4+i%12)
		}
		fmt.Fprintf(&b, `    recipient: {kind: domestic_abuse_service, find: local_authority}
    profile: %s
    start: incident_at
    due:
      - {when: "default_rag == 'red'", calendar: clock, limit: 4h}
      - {calendar: working_day, days: %d}
    flags:
      repeat_same_parties: "same_parties_incidents > 1"
`, []string{"A", "C", "D"}[i%3], 1+i%3)
	}
	return b.String()
}

// policyWithPartnershipRules is the shipped policy with n partnership
// rules added.
func policyWithPartnershipRules(b testing.TB, n int) *policy.Policy {
	b.Helper()
	data, err := os.ReadFile(shippedPolicyFile)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Replace(string(data), "conditions:\n", "recipient_kinds:\n  domestic_abuse_service: {label: \"Partnership team\"}\n\nconditions:\n", 1)
	p, err := policy.Parse("bench.yaml", []byte(text+partnershipRules(n)))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkRuleEvaluation routes generated incidents and their triage
// under the default policy and with 50 partnership rules added, and
// reports decisions (incidents routed) per second.
func BenchmarkRuleEvaluation(b *testing.B) {
	ref := writeReference(b, worldOptions{})
	for _, c := range []struct {
		name  string
		rules int
	}{{"default", 0}, {"50_partnership_rules", 50}} {
		b.Run(c.name, func(b *testing.B) {
			p := defaultPolicy(b)
			if c.rules > 0 {
				p = policyWithPartnershipRules(b, c.rules)
			}
			r := newRouter(p, ref)
			g := generator{rnd: rand.New(rand.NewPCG(7, 7))}
			type sample struct {
				d        events.IncidentReportedData
				received time.Time
			}
			samples := make([]sample, 256)
			for i := range samples {
				in, received := g.incident(i)
				samples[i] = sample{reported(in, received), received}
			}
			history := routing.History{ChildIncidents: map[string]int{"C-1": 1}, SamePartiesIncidents: 1}
			notices := 0
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s := samples[i%len(samples)]
				out, err := r.OnIncident(context.Background(), s.d, history, s.received)
				if err != nil {
					b.Fatal(err)
				}
				notices += len(out.Decisions)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
			b.ReportMetric(float64(notices)/float64(b.N), "notices/decision")
		})
	}
}

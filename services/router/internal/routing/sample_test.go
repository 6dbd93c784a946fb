package routing_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

func samplePolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.Load(samplePolicyFile)
	if err != nil {
		t.Fatalf("loading the sample policy: %v", err)
	}
	return p
}

// TestSampleRuleMediumRiskToTheDomesticAbuseService: DASH medium, or
// standard with a repeat, goes to the local domestic abuse service with
// the victim-focused notice; high risk stays with MARAC and the IDVA.
func TestSampleRuleMediumRiskToTheDomesticAbuseService(t *testing.T) {
	r := newRouter(samplePolicy(t), writeReference(t, worldOptions{}))
	cases := []struct {
		name        string
		level       string
		ticks       int
		sameParties int
		want        bool
	}{
		{"medium", ppn.DASHMedium, 8, 0, true},
		{"standard, first incident", ppn.DASHStandard, 3, 0, false},
		{"standard with a repeat", ppn.DASHStandard, 3, 1, true},
		{"high risk goes to MARAC instead", ppn.DASHHigh, 15, 0, false},
		{"medium but MARAC criteria met on ticks", ppn.DASHMedium, 14, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := baseIncident(wednesday)
			in.Children = []ppn.Child{pupil7}
			in.Adults = append(in.Adults, ppn.Adult{PersonID: "P-3", Role: ppn.RoleOther, Name: "Olive Other"})
			in.DASH = ppn.DASH{Level: c.level, YesCount: intPtr(c.ticks)}
			out := decideIncident(t, r, in, wednesday.Add(20*time.Minute), routing.History{SamePartiesIncidents: c.sameParties})
			got := byKind(out, samplePartnerKind)
			if (len(got) == 1) != c.want || len(got) > 1 {
				t.Fatalf("%d notices to the domestic abuse service, want %v (kinds %v)", len(got), c.want, kinds(out))
			}
			if !c.want {
				return
			}
			q := got[0].Request
			if q.RuleID != "DA1" || q.Profile != "A" || q.Recipient.ID != testLA || q.Calendar != "working_day" ||
				!q.DueAt.Equal(endOfDay(2026, time.November, 19)) || !strings.Contains(q.LawfulBasis, "individuals at risk") ||
				q.LawfulBasis == samplePolicy(t).LawfulBasis {
				t.Errorf("notice %+v", q)
			}
			if strings.Contains(string(q.Notice), "Olive") || !strings.Contains(string(q.Notice), "Vera Victim") {
				t.Errorf("the notice is not victim-focused: %s", q.Notice)
			}
			if q.DueAt.In(calendar.London).Weekday() != time.Thursday {
				t.Errorf("due %s", q.DueAt)
			}
		})
	}
}

// TestSamplePolicyDecidesAsTheDefaultBesidesItsRule: over the property
// test's incidents, the sample policy takes every decision the default
// takes, and adds only the sample rule's notices.
func TestSamplePolicyDecidesAsTheDefaultBesidesItsRule(t *testing.T) {
	sample := samplePolicy(t)
	defaults := propertyDecisionsUnder(t, defaultPolicy(t))
	with := propertyDecisionsUnder(t, sample)
	var added int
	for _, l := range with {
		if strings.Contains(l, `"rule_id":"DA1"`) {
			added++
		}
	}
	withoutSample := slices.DeleteFunc(slices.Clone(with), func(l string) bool { return strings.Contains(l, `"rule_id":"DA1"`) })
	if added == 0 {
		t.Fatal("the sample rule fired on none of the incidents")
	}
	normalise := func(lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = strings.ReplaceAll(l, "sample-medium-risk-da-2027.1", "default-2026.1")
		}
		return out
	}
	if !slices.Equal(normalise(withoutSample), normalise(defaults)) {
		t.Errorf("the sample policy changed decisions other than its own rule's")
	}
	t.Logf("the sample rule added %d notices over %d decisions", added, len(defaults))
}

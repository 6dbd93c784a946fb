package routing_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

// knownSchools are the URNs of the test world's schools and colleges.
var knownSchools = []string{alphaPrimary, betaAcademy, gammaCollege, staleSchool, otherbySchool}

// generator makes random but valid incidents over the test world.
type generator struct {
	rnd *rand.Rand
}

func (g generator) pick(options ...string) string { return options[g.rnd.IntN(len(options))] }

func (g generator) chance(percent int) bool { return g.rnd.IntN(100) < percent }

func (g generator) incident(n int) (ppn.Incident, time.Time) {
	start := london(2026, time.August, 25, 0, 0)
	occurred := start.Add(time.Duration(g.rnd.Int64N(int64(220 * 24 * time.Hour)))).Truncate(time.Minute)
	received := occurred.Add(time.Duration(g.rnd.Int64N(int64(48 * time.Hour)))).Truncate(time.Minute)
	in := ppn.Incident{
		ForceCode: "TEST", PoliceReference: fmt.Sprintf("TST-%06d", n), OccurredAt: occurred, ReportedAt: occurred,
		LocalAuthorityCode: g.pick(testLA, testLA, otherLA),
		DASH: ppn.DASH{Level: g.pick(ppn.DASHStandard, ppn.DASHMedium, ppn.DASHHigh, ppn.DASHNotCompleted),
			ProfessionalJudgementHigh: g.chance(10)},
		IncidentsSameParties12m: g.rnd.IntN(5), PreviousMARACWithin12m: g.chance(10),
		Children: []ppn.Child{},
	}
	if in.DASH.Level != ppn.DASHNotCompleted && g.chance(80) {
		in.DASH.YesCount = intPtr(g.rnd.IntN(28))
	}
	if g.chance(70) {
		in.Location = &ppn.Location{Postcode: "ME4 4TR"}
	}
	victim := ppn.Adult{PersonID: "P-1", Role: ppn.RoleVictim, Name: "Vera Victim", DateOfBirth: "1990-01-01",
		Pregnant: g.chance(20), GPODSCode: g.pick("", alphaSurgery, betaPractice, "G99999")}
	if victim.Pregnant {
		victim.ExpectedDueDate = calendar.DateOf(occurred.AddDate(0, 4, 0)).String()
	}
	perpetrator := ppn.Adult{PersonID: "P-2", Role: ppn.RolePerpetrator, Name: "Percy Perp", OnProbation: g.chance(20)}
	if g.chance(15) {
		perpetrator.MAPPALevel = intPtr(g.rnd.IntN(4))
	}
	in.Adults = []ppn.Adult{victim, perpetrator}
	if g.chance(30) {
		in.Adults = append(in.Adults, ppn.Adult{PersonID: "P-3", Role: ppn.RoleOther, Name: "Olive Other", OnProbation: g.chance(10)})
	}
	for i := range g.rnd.IntN(5) {
		in.Children = append(in.Children, g.child(i, occurred))
	}
	return in, received
}

func (g generator) child(i int, occurred time.Time) ppn.Child {
	dob := occurred.AddDate(0, 0, -g.rnd.IntN(18*365)-1)
	c := ppn.Child{PersonID: fmt.Sprintf("C-%d", i+1), Name: fmt.Sprintf("Child %d", i+1),
		DateOfBirth: calendar.DateOf(dob.In(calendar.London)).String(), Present: g.chance(60),
		GPODSCode: g.pick("", alphaSurgery, betaPractice), OpenToCSC: g.chance(10), CPPlan: g.chance(5)}
	if g.chance(50) {
		c.NHSNumber = fmt.Sprintf("%010d", g.rnd.IntN(1_000_000_000))
	}
	switch kind := g.pick("school", "school", "fe", "sixteen_to_nineteen", "early_years", "home_educated", "none", "unknown"); kind {
	case "school", "fe", "sixteen_to_nineteen":
		c.Education = &ppn.Education{Type: kind, URN: g.pick(append(knownSchools, unknownSchool)...)}
	case "early_years":
		c.Education = &ppn.Education{Type: kind, URN: g.pick(acornsNursery, "EY999999")}
	case "home_educated", "none":
		c.Education = &ppn.Education{Type: kind}
	}
	return c
}

// TestPropertyOverGeneratedIncidents routes a thousand random incidents,
// and their triage, and checks what must hold for every one of them.
func TestPropertyOverGeneratedIncidents(t *testing.T) {
	p := defaultPolicy(t)
	allowed := p.RuleRecipients()
	routeGenerated(t, p, func(n int, in ppn.Incident, out, triage routing.Outcome) {
		for _, o := range []routing.Outcome{out, triage} {
			checkNoDueBeforeIncident(t, n, in, o)
			checkRecipientsNamedByRules(t, n, allowed, o)
			checkUniqueIDs(t, n, o)
		}
		checkOneSchoolNoticePerPupil(t, n, in, out)
		if t.Failed() {
			t.Fatalf("incident %d failed: %+v", n, in)
		}
	})
}

// routeGenerated routes under p a thousand incidents drawn from a fixed
// random stream, in two reference worlds in turn, each with a random
// history and then a random triage, and hands each incident and its two
// outcomes to check.
func routeGenerated(t *testing.T, p *policy.Policy, check func(n int, in ppn.Incident, out, triage routing.Outcome)) {
	t.Helper()
	worlds := []*refdata.Set{writeReference(t, worldOptions{}), writeReference(t, worldOptions{earlyYearsOptIn: true})}
	g := generator{rnd: rand.New(rand.NewPCG(20261120, 8))}
	for n := range 1000 {
		in, received := g.incident(n)
		r := newRouter(p, worlds[n%2])
		history := routing.History{ChildIncidents: map[string]int{"C-1": g.rnd.IntN(4)}, SamePartiesIncidents: g.rnd.IntN(4)}
		out := decideIncident(t, r, in, received, history)
		triage := decideTriage(t, r, out.Case, g.pick("red", "amber", "green"), received.Add(time.Duration(g.rnd.IntN(72))*time.Hour))
		check(n, in, out, triage)
	}
}

func checkNoDueBeforeIncident(t *testing.T, n int, in ppn.Incident, o routing.Outcome) {
	t.Helper()
	for _, d := range o.Decisions {
		if d.Request.DueAt.Before(in.OccurredAt) {
			t.Errorf("incident %d: %s due %s before the incident %s", n, d.Request.RuleID, d.Request.DueAt, in.OccurredAt)
		}
		if !d.SendBy.IsZero() && (d.SendBy.Before(in.OccurredAt) || d.SendBy.After(d.Request.DueAt)) {
			t.Errorf("incident %d: %s send_by %s outside [incident, due]", n, d.Request.RuleID, d.SendBy)
		}
	}
}

func checkRecipientsNamedByRules(t *testing.T, n int, allowed map[string][]events.RecipientKind, o routing.Outcome) {
	t.Helper()
	for _, d := range o.Decisions {
		if !slices.Contains(allowed[d.Request.RuleID], d.Request.Recipient.Kind) {
			t.Errorf("incident %d: rule %s sent to %s, which it does not name", n, d.Request.RuleID, d.Request.Recipient.Kind)
		}
	}
}

func checkUniqueIDs(t *testing.T, n int, o routing.Outcome) {
	t.Helper()
	seen := map[string]bool{}
	for _, d := range o.Decisions {
		if seen[d.Request.NotificationID] {
			t.Errorf("incident %d: notification %s decided twice", n, d.Request.NotificationID)
		}
		seen[d.Request.NotificationID] = true
	}
}

// checkOneSchoolNoticePerPupil: every child with a known school gets
// exactly one school notice, and every school notice names only that
// school's pupils.
func checkOneSchoolNoticePerPupil(t *testing.T, n int, in ppn.Incident, o routing.Outcome) {
	t.Helper()
	urnOf := map[string]string{}
	for _, c := range in.Children {
		if c.Education != nil && slices.Contains([]string{"school", "fe", "sixteen_to_nineteen"}, c.Education.Type) {
			urnOf[c.PersonID] = c.Education.URN
		}
	}
	count := map[string]int{}
	for _, d := range byKind(o, events.KindSchool) {
		for _, id := range d.Request.ChildIDs {
			count[id]++
			if urnOf[id] != d.Request.Recipient.ID {
				t.Errorf("incident %d: school %s was told of %s, a pupil of %q", n, d.Request.Recipient.ID, id, urnOf[id])
			}
		}
	}
	for id, urn := range urnOf {
		if want := btoi(slices.Contains(knownSchools, urn)); count[id] != want {
			t.Errorf("incident %d: child %s at %q got %d school notices, want %d", n, id, urn, count[id], want)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

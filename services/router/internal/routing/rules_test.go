package routing_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

// ruleCase routes one incident, and its triage when triage is set, and
// checks how many notices each kind of recipient got.
type ruleCase struct {
	name    string
	setup   func(in *ppn.Incident)
	history routing.History
	// edits are pairs of old and new text of the shipped policy file.
	edits  []string
	optIn  bool
	triage string
	want   map[events.RecipientKind]int
	check  func(t *testing.T, all []routing.Decision)
}

// wednesday is a term-time Wednesday afternoon in the test world.
var wednesday = london(2026, time.November, 18, 14, 0)

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := defaultPolicy(t)
			if c.edits != nil {
				p = editedPolicy(t, c.edits...)
			}
			r := newRouter(p, writeReference(t, worldOptions{earlyYearsOptIn: c.optIn}))
			in := baseIncident(wednesday)
			if c.setup != nil {
				c.setup(&in)
			}
			out := decideIncident(t, r, in, wednesday.Add(20*time.Minute), c.history)
			all := out.Decisions
			if c.triage != "" {
				all = append(all, decideTriage(t, r, out.Case, c.triage, wednesday.Add(3*time.Hour)).Decisions...)
			}
			got := map[events.RecipientKind]int{}
			for _, d := range all {
				got[d.Request.Recipient.Kind]++
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("notices per recipient kind (-want +got):\n%s", diff)
			}
			if c.check != nil {
				c.check(t, all)
			}
		})
	}
}

func find(t *testing.T, all []routing.Decision, kind events.RecipientKind) routing.Decision {
	t.Helper()
	for _, d := range all {
		if d.Request.Recipient.Kind == kind {
			return d
		}
	}
	t.Fatalf("no notice to %s", kind)
	return routing.Decision{}
}

func withChildren(cs ...ppn.Child) func(*ppn.Incident) {
	return func(in *ppn.Incident) { in.Children = cs }
}

func wantDue(kind events.RecipientKind, at time.Time, cal calendar.Kind) func(*testing.T, []routing.Decision) {
	return func(t *testing.T, all []routing.Decision) {
		t.Helper()
		d := find(t, all, kind)
		if !d.Request.DueAt.Equal(at) || d.Request.Calendar != string(cal) {
			t.Errorf("%s due %s on %s, want %s on %s", kind, d.Request.DueAt.In(calendar.London), d.Request.Calendar, at, cal)
		}
	}
}

func wantFlags(kind events.RecipientKind, flags ...string) func(*testing.T, []routing.Decision) {
	return func(t *testing.T, all []routing.Decision) {
		t.Helper()
		d := find(t, all, kind)
		for _, f := range flags {
			if !slices.Contains(d.Request.Flags, f) {
				t.Errorf("%s flags %v lack %s", kind, d.Request.Flags, f)
			}
		}
	}
}

func endOfDay(year int, month time.Month, day int) time.Time {
	return london(year, month, day+1, 0, 0).Add(-time.Nanosecond)
}

var (
	pupil7    = child("C-1", "Amy Pupil", "2019-01-10", ppn.EducationSchool, alphaPrimary)
	pupil8    = child("C-2", "Ben Pupil", "2018-03-03", ppn.EducationSchool, alphaPrimary)
	pupil12   = child("C-3", "Cat Pupil", "2014-06-06", ppn.EducationSchool, betaAcademy)
	student17 = child("C-4", "Dan Student", "2009-07-07", ppn.EducationFE, gammaCollege)
	toddler   = child("C-5", "Eve Toddler", "2024-01-01", ppn.EducationNone, "")
	baby      = child("C-6", "Fay Baby", "2026-06-01", "", "")
)

func TestR1MASH(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "a child: MASH within 24 hours", setup: withChildren(pupil7),
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 1},
			check: wantDue(events.KindMASH, wednesday.Add(24*time.Hour), calendar.Clock)},
		{name: "DASH high: MASH within 1 hour", setup: func(in *ppn.Incident) {
			in.Children = []ppn.Child{toddler}
			in.DASH.Level = ppn.DASHHigh
		}, want: map[events.RecipientKind]int{events.KindMASH: 1},
			check: wantDue(events.KindMASH, wednesday.Add(time.Hour), calendar.Clock)},
		{name: "no child and no pregnancy: nobody", want: map[events.RecipientKind]int{}},
		{name: "disabled: no MASH notice", setup: withChildren(toddler), edits: []string{"  - id: R1 ", "  - id: R1\n    enabled: false\n   "},
			want: map[events.RecipientKind]int{}},
	})
}

func TestR2aDefaultRAG(t *testing.T) {
	p := defaultPolicy(t)
	for _, c := range []struct {
		name        string
		setup       func(in *ppn.Incident)
		sameParties int
		want        routing.RAGProposal
	}{
		{"standard is green", nil, 1, routing.RAGProposal{RAG: policy.Green, Reasons: []string{"dash_standard"}}},
		{"not completed is green", func(in *ppn.Incident) { in.DASH.Level = ppn.DASHNotCompleted }, 1,
			routing.RAGProposal{RAG: policy.Green, Reasons: []string{"dash_not_completed"}}},
		{"medium is amber", func(in *ppn.Incident) { in.DASH.Level = ppn.DASHMedium }, 1,
			routing.RAGProposal{RAG: policy.Amber, Reasons: []string{"dash_medium"}}},
		{"high is red", func(in *ppn.Incident) { in.DASH.Level = ppn.DASHHigh }, 1,
			routing.RAGProposal{RAG: policy.Red, Reasons: []string{"dash_high"}}},
		{"a baby lifts green to amber", func(in *ppn.Incident) { in.Children = []ppn.Child{baby} }, 1,
			routing.RAGProposal{RAG: policy.Amber, Reasons: []string{"dash_standard", "under_one"}}},
		{"an unborn child lifts green to amber", func(in *ppn.Incident) { in.Adults[0].Pregnant = true }, 1,
			routing.RAGProposal{RAG: policy.Amber, Reasons: []string{"dash_standard", "unborn"}}},
		{"a third incident lifts to amber with cumulative harm", nil, 3,
			routing.RAGProposal{RAG: policy.Amber, Reasons: []string{"dash_standard", "same_parties"}, CumulativeHarm: true}},
		{"floors never lower red", func(in *ppn.Incident) { in.DASH.Level = ppn.DASHHigh; in.Children = []ppn.Child{baby} }, 1,
			routing.RAGProposal{RAG: policy.Red, Reasons: []string{"dash_high", "under_one"}}},
		{"a child protection plan asks for the allocated worker", func(in *ppn.Incident) {
			c := toddler
			c.CPPlan = true
			in.Children = []ppn.Child{c}
		}, 1, routing.RAGProposal{RAG: policy.Green, Reasons: []string{"dash_standard"}, AllocatedWorker: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := baseIncident(wednesday)
			if c.setup != nil {
				c.setup(&in)
			}
			if diff := cmp.Diff(c.want, routing.ProposeRAG(p, in, c.sameParties)); diff != "" {
				t.Errorf("proposal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestR8School(t *testing.T) {
	thursdayStart := london(2026, time.November, 19, 8, 30)
	runRuleCases(t, []ruleCase{
		{name: "two pupils at one school: one notice naming both", setup: withChildren(pupil7, pupil8),
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 1},
			check: func(t *testing.T, all []routing.Decision) {
				if diff := cmp.Diff([]string{"C-1", "C-2"}, find(t, all, events.KindSchool).Request.ChildIDs); diff != "" {
					t.Errorf("child_ids (-want +got):\n%s", diff)
				}
				wantDue(events.KindSchool, thursdayStart, calendar.SchoolDay)(t, all)
			}},
		{name: "pupils at two schools and a college: three notices", setup: withChildren(pupil7, pupil12, student17),
			want:   map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 3, events.KindSchoolNursing: 1},
			triage: "green"},
		{name: "a school missing from the reference data: the MASH is told",
			setup: withChildren(child("C-1", "Amy Pupil", "2019-01-10", ppn.EducationSchool, unknownSchool)),
			want:  map[events.RecipientKind]int{events.KindMASH: 1}, check: wantFlags(events.KindMASH, "unrouted_school")},
		{name: "a calendar with no next open day falls back to one working day",
			setup: withChildren(child("C-1", "Amy Pupil", "2019-01-10", ppn.EducationSchool, staleSchool)),
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 1},
			check: func(t *testing.T, all []routing.Decision) {
				wantDue(events.KindSchool, endOfDay(2026, time.November, 19), calendar.WorkingDay)(t, all)
				wantFlags(events.KindSchool, "school_calendar_fallback")(t, all)
			}},
		{name: "the school's local authority chose the minimal notice",
			setup: withChildren(child("C-1", "Amy Pupil", "2019-01-10", ppn.EducationSchool, otherbySchool)),
			edits: []string{"profile_by_local_authority: {}", "profile_by_local_authority: {" + otherLA + ": B_minimal}"},
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 1},
			check: func(t *testing.T, all []routing.Decision) {
				if got := find(t, all, events.KindSchool).Request.Profile; got != "B_minimal" {
					t.Errorf("profile = %s, want B_minimal", got)
				}
			}},
		{name: "names for safe collection only when the policy allows", setup: withChildren(pupil7),
			edits: []string{"adults_for_safe_collection: false", "adults_for_safe_collection: true"},
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 1},
			check: func(t *testing.T, all []routing.Decision) {
				body := string(find(t, all, events.KindSchool).Request.Notice)
				if !strings.Contains(body, `"adults":[{"name":"Vera Victim","role":"victim"},{"name":"Percy Perp","role":"perpetrator"}]`) {
					t.Errorf("school notice lacks the adults for safe collection: %s", body)
				}
			}},
		{name: "an incident between 06:00 and the school's start is sent at once",
			setup: func(in *ppn.Incident) {
				in.OccurredAt = london(2026, time.November, 18, 7, 0)
				in.Children = []ppn.Child{pupil7}
			},
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 1},
			check: func(t *testing.T, all []routing.Decision) {
				d := find(t, all, events.KindSchool)
				if want := london(2026, time.November, 18, 8, 30); !d.Request.DueAt.Equal(want) {
					t.Errorf("due %s, want %s", d.Request.DueAt, want)
				}
				if want := london(2026, time.November, 18, 7, 0); !d.SendBy.Equal(want) {
					t.Errorf("send_by %s, want the incident time %s", d.SendBy, want)
				}
			}},
	})
}

func TestR9HomeEducation(t *testing.T) {
	tenYearOld := func(educationType string) ppn.Child {
		return child("C-1", "Gus Home", "2016-02-02", educationType, "")
	}
	runRuleCases(t, []ruleCase{
		{name: "educated at home", setup: withChildren(tenYearOld(ppn.EducationHomeEducated)),
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindHomeEducation: 1},
			check: wantDue(events.KindHomeEducation, endOfDay(2026, time.November, 19), calendar.WorkingDay)},
		{name: "of school age on no roll", setup: withChildren(tenYearOld(ppn.EducationNone)),
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindHomeEducation: 1}},
		{name: "under school age on no roll: not missing education", setup: withChildren(toddler),
			want: map[events.RecipientKind]int{events.KindMASH: 1}},
		{name: "education unknown: not assumed missing", setup: withChildren(child("C-1", "Gus", "2016-02-02", "", "")),
			want: map[events.RecipientKind]int{events.KindMASH: 1}},
	})
}

func TestR10EarlyYears(t *testing.T) {
	nursery := child("C-1", "Toby Toddler", "2023-06-01", ppn.EducationEarlyYears, acornsNursery)
	runRuleCases(t, []ruleCase{
		{name: "opted in", setup: withChildren(nursery), optIn: true,
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindEarlyYears: 1},
			check: wantDue(events.KindEarlyYears, endOfDay(2026, time.November, 19), calendar.WorkingDay)},
		{name: "opted out", setup: withChildren(nursery), want: map[events.RecipientKind]int{events.KindMASH: 1}},
		{name: "opted in, setting unknown: the MASH is told", optIn: true,
			setup: withChildren(child("C-1", "Toby", "2023-06-01", ppn.EducationEarlyYears, "EY999999")),
			want:  map[events.RecipientKind]int{events.KindMASH: 1}, check: wantFlags(events.KindMASH, "unrouted_early_years")},
		{name: "due at the setting's next session when the policy says school_day", setup: withChildren(nursery), optIn: true,
			edits: []string{"      - {calendar: working_day, days: 1}           # [P] no booked-session data",
				"      - {calendar: school_day, fallback: {calendar: working_day, days: 1}}  #"},
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindEarlyYears: 1},
			check: wantDue(events.KindEarlyYears, london(2026, time.November, 19, 8, 0), calendar.SchoolDay)},
	})
}

func TestR11HealthVisiting(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "under five: told after triage, one working day", setup: withChildren(toddler, baby), triage: "amber",
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindHealthVisiting: 1},
			check: func(t *testing.T, all []routing.Decision) {
				wantDue(events.KindHealthVisiting, endOfDay(2026, time.November, 19), calendar.WorkingDay)(t, all)
				if diff := cmp.Diff([]string{"C-5", "C-6"}, find(t, all, events.KindHealthVisiting).Request.ChildIDs); diff != "" {
					t.Errorf("caseload (-want +got):\n%s", diff)
				}
			}},
		{name: "red: the same working day", setup: withChildren(toddler), triage: "red",
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindHealthVisiting: 1},
			check: wantDue(events.KindHealthVisiting, endOfDay(2026, time.November, 18), calendar.WorkingDay)},
		{name: "not before triage", setup: withChildren(toddler), want: map[events.RecipientKind]int{events.KindMASH: 1}},
		{name: "at once when the policy says incident", setup: withChildren(toddler),
			edits: []string{"    on: triage                                     # [P] the clock starts at rag_assigned", "    on: incident"},
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindHealthVisiting: 1},
			// Green is due within 72 hours of MASH opening time after
			// receipt (nine 8-hour days: Tuesday 1 December 14:20), and the
			// team has one working day more.
			check: wantDue(events.KindHealthVisiting, endOfDay(2026, time.December, 2), calendar.WorkingDay)},
	})
}

func TestR12SchoolNursing(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "school age: two working days after triage", setup: withChildren(pupil7, toddler), triage: "green",
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 1, events.KindSchoolNursing: 1,
				events.KindHealthVisiting: 1},
			check: func(t *testing.T, all []routing.Decision) {
				wantDue(events.KindSchoolNursing, endOfDay(2026, time.November, 20), calendar.WorkingDay)(t, all)
				if diff := cmp.Diff([]string{"C-1"}, find(t, all, events.KindSchoolNursing).Request.ChildIDs); diff != "" {
					t.Errorf("caseload (-want +got):\n%s", diff)
				}
			}},
		{name: "red: one working day", setup: withChildren(pupil12), triage: "red",
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 1, events.KindSchoolNursing: 1},
			check: wantDue(events.KindSchoolNursing, endOfDay(2026, time.November, 19), calendar.WorkingDay)},
	})
}

func TestR13Midwifery(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "pregnant victim", setup: func(in *ppn.Incident) { in.Adults[0].Pregnant = true },
			want:  map[events.RecipientKind]int{events.KindMASH: 1, events.KindMidwifery: 1},
			check: wantDue(events.KindMidwifery, endOfDay(2026, time.November, 19), calendar.WorkingDay)},
		{name: "pregnant, DASH high: four hours", setup: func(in *ppn.Incident) {
			in.Adults[0].Pregnant = true
			in.DASH.Level = ppn.DASHHigh
		}, want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindMidwifery: 1},
			check: wantDue(events.KindMidwifery, wednesday.Add(20*time.Minute+4*time.Hour), calendar.Clock)},
	})
}

func TestR14GP(t *testing.T) {
	withGPs := func(in *ppn.Incident) {
		a, b := pupil7, pupil12
		a.GPODSCode, b.GPODSCode = alphaSurgery, betaPractice
		in.Children = []ppn.Child{a, b}
		in.Adults[0].GPODSCode = alphaSurgery
	}
	runRuleCases(t, []ruleCase{
		{name: "amber: each practice with its own patients", setup: withGPs, triage: "amber",
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 2, events.KindSchoolNursing: 1, events.KindGP: 2},
			check: func(t *testing.T, all []routing.Decision) {
				for _, d := range all {
					if d.Request.Recipient.Kind != events.KindGP {
						continue
					}
					body := string(d.Request.Notice)
					switch d.Request.Recipient.ID {
					case alphaSurgery:
						if !strings.Contains(body, "Amy Pupil") || !strings.Contains(body, "Vera Victim") || strings.Contains(body, "Cat Pupil") {
							t.Errorf("Alpha Surgery notice shows the wrong patients: %s", body)
						}
					case betaPractice:
						if !strings.Contains(body, "Cat Pupil") || strings.Contains(body, "Amy Pupil") || strings.Contains(body, "Vera Victim") {
							t.Errorf("Beta Practice notice shows the wrong patients: %s", body)
						}
					}
					if strings.Contains(body, "Percy Perp") {
						t.Errorf("GP notice names the perpetrator: %s", body)
					}
				}
			}},
		{name: "green: no GP", setup: withGPs, triage: "green",
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 2, events.KindSchoolNursing: 1}},
		{name: "DASH high: at once, before triage", setup: func(in *ppn.Incident) { withGPs(in); in.DASH.Level = ppn.DASHHigh },
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 2, events.KindGP: 2},
			// Red is due 4 hours after receipt (Wednesday 18:20); the
			// practice has one working day more.
			check: wantDue(events.KindGP, endOfDay(2026, time.November, 19), calendar.WorkingDay)},
	})
}

func TestR15Probation(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "perpetrator on probation", setup: func(in *ppn.Incident) { in.Adults[1].OnProbation = true },
			want:  map[events.RecipientKind]int{events.KindProbation: 1},
			check: wantDue(events.KindProbation, endOfDay(2026, time.November, 19), calendar.WorkingDay)},
		{name: "MAPPA: four hours and flagged", setup: func(in *ppn.Incident) { in.Adults[1].MAPPALevel = intPtr(2) },
			want: map[events.RecipientKind]int{events.KindProbation: 1},
			check: func(t *testing.T, all []routing.Decision) {
				wantDue(events.KindProbation, wednesday.Add(20*time.Minute+4*time.Hour), calendar.Clock)(t, all)
				wantFlags(events.KindProbation, "mappa")(t, all)
			}},
		{name: "MAPPA level 0 is not MAPPA management", setup: func(in *ppn.Incident) { in.Adults[1].MAPPALevel = intPtr(0) },
			want: map[events.RecipientKind]int{}},
	})
}

func TestR16MARACAndIDVA(t *testing.T) {
	both := map[events.RecipientKind]int{events.KindMARAC: 1, events.KindIDVA: 1}
	runRuleCases(t, []ruleCase{
		{name: "14 DASH ticks", setup: func(in *ppn.Incident) { in.DASH.YesCount = intPtr(14) }, want: both,
			check: wantDue(events.KindMARAC, endOfDay(2026, time.November, 19), calendar.WorkingDay)},
		{name: "13 DASH ticks: no", setup: func(in *ppn.Incident) { in.DASH.YesCount = intPtr(13) }, want: map[events.RecipientKind]int{}},
		{name: "professional judgement", setup: func(in *ppn.Incident) { in.DASH.ProfessionalJudgementHigh = true }, want: both},
		{name: "previous MARAC", setup: func(in *ppn.Incident) { in.PreviousMARACWithin12m = true }, want: both},
		{name: "third incident by the police's count", setup: func(in *ppn.Incident) { in.IncidentsSameParties12m = 2 }, want: both},
		{name: "third incident by Lantern's count", history: routing.History{SamePartiesIncidents: 2}, want: both},
		{name: "second incident: no", setup: func(in *ppn.Incident) { in.IncidentsSameParties12m = 1 }, want: map[events.RecipientKind]int{}},
		{name: "no victim: no", setup: func(in *ppn.Incident) {
			in.DASH.YesCount = intPtr(20)
			in.Adults = in.Adults[1:]
		}, want: map[events.RecipientKind]int{}},
	})
}

func TestR17RepeatChild(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "third incident of the child by Lantern's count", setup: withChildren(pupil7, pupil12),
			history: routing.History{ChildIncidents: map[string]int{"C-1": 2}},
			want:    map[events.RecipientKind]int{events.KindMASH: 1, events.KindSchool: 2},
			check: func(t *testing.T, all []routing.Decision) {
				wantFlags(events.KindMASH, "escalation", "repeat_child")(t, all)
				for _, d := range all {
					if d.Request.Recipient.Kind == events.KindSchool && d.Request.Repeat != (d.Request.Recipient.ID == alphaPrimary) {
						t.Errorf("school %s repeat = %v; only the repeat child's school is marked", d.Request.Recipient.ID, d.Request.Repeat)
					}
				}
			}},
		{name: "the police's count applies to the household's children", setup: func(in *ppn.Incident) {
			in.Children = []ppn.Child{toddler}
			in.IncidentsSameParties12m = 2
		}, triage: "amber",
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindHealthVisiting: 1, events.KindMARAC: 1, events.KindIDVA: 1},
			check: func(t *testing.T, all []routing.Decision) {
				if !find(t, all, events.KindHealthVisiting).Request.Repeat {
					t.Error("the health visiting notice is not marked repeat")
				}
			}},
		{name: "not when the policy leaves the police's count out", setup: func(in *ppn.Incident) {
			in.Children = []ppn.Child{toddler}
			in.IncidentsSameParties12m = 2
		}, edits: []string{"|| incidents_same_parties_12m + 1 >= 3", ""},
			want: map[events.RecipientKind]int{events.KindMASH: 1, events.KindMARAC: 1, events.KindIDVA: 1},
			check: func(t *testing.T, all []routing.Decision) {
				if find(t, all, events.KindMASH).Request.Repeat {
					t.Error("the MASH notice is marked repeat")
				}
			}},
	})
}

// TestR2TriageDeadlineOnMASHNotice: the MASH notice carries R2's deadline
// from the MASH's receipt for the proposed rating, and an edit of R2 in
// the policy moves it.
func TestR2TriageDeadlineOnMASHNotice(t *testing.T) {
	ref := writeReference(t, worldOptions{})
	received := wednesday.Add(20 * time.Minute)
	in := baseIncident(wednesday)
	in.Children = []ppn.Child{pupil7}
	triageDue := func(p *policy.Policy, level string) time.Time {
		in := in
		in.DASH.Level = level
		d := only(t, decideIncident(t, newRouter(p, ref), in, received, routing.History{}), events.KindMASH)
		if d.Request.TriageDueAt == nil {
			t.Fatalf("the MASH notice has no triage_due_at")
		}
		return d.Request.TriageDueAt.In(calendar.London)
	}
	shipped := defaultPolicy(t)
	if got, want := triageDue(shipped, ppn.DASHHigh), received.Add(4*time.Hour); !got.Equal(want) {
		t.Errorf("red: triage due %s, want four hours on the clock %s", got, want)
	}
	// Green: 72 opening hours of a Mon-Fri 09:00-17:00 MASH from Wednesday
	// 14:20 is nine working days on, at 14:20.
	if got, want := triageDue(shipped, ppn.DASHStandard), london(2026, time.December, 1, 14, 20); !got.Equal(want) {
		t.Errorf("green: triage due %s, want %s", got, want)
	}
	edited := editedPolicy(t, "- {calendar: mash_hours, limit: 72h}", "- {calendar: clock, limit: 8h}")
	if got, want := triageDue(edited, ppn.DASHStandard), received.Add(8*time.Hour); !got.Equal(want) {
		t.Errorf("edited green: triage due %s, want %s", got, want)
	}
	for _, d := range decideIncident(t, newRouter(shipped, ref), in, received, routing.History{}).Decisions {
		if d.Request.Recipient.Kind != events.KindMASH && d.Request.TriageDueAt != nil {
			t.Errorf("the %s notice carries a triage deadline", d.Request.Recipient.Kind)
		}
	}
}

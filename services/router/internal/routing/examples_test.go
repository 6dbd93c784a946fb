package routing_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

// The worked examples of domain.md section 8.6, one test each.

func TestWorkedExample1_FridayEveningSchoolDueMonday(t *testing.T) {
	r := newRouter(defaultPolicy(t), writeReference(t, worldOptions{}))
	in := baseIncident(london(2026, time.November, 20, 19, 0))
	in.Children = []ppn.Child{child("C-1", "Amy Pupil", "2018-05-01", ppn.EducationSchool, alphaPrimary)}

	school := only(t, decideIncident(t, r, in, in.OccurredAt.Add(30*time.Minute), routing.History{}), events.KindSchool)

	due := school.Request.DueAt
	if want := london(2026, time.November, 23, 8, 30); !due.Equal(want) {
		t.Fatalf("due_at = %s, want Monday 08:30 %s", due, want)
	}
	if school.Request.Calendar != "school_day" {
		t.Errorf("calendar = %q, want school_day", school.Request.Calendar)
	}
	// Sent as soon as practicable: within 24 hours of the incident, well
	// before 06:00 on the due day.
	if want := london(2026, time.November, 21, 19, 0); !school.SendBy.Equal(want) {
		t.Errorf("send_by = %s, want %s", school.SendBy, want)
	}
	for _, c := range []struct {
		name      string
		sentAt    time.Time
		compliant bool
	}{
		{"Saturday 02:00 is compliant", london(2026, time.November, 21, 2, 0), true},
		{"Monday 09:15 is a breach", london(2026, time.November, 23, 9, 15), false},
	} {
		if got := !c.sentAt.After(due); got != c.compliant {
			t.Errorf("%s: compliant = %v", c.name, got)
		}
	}
}

func TestWorkedExample2_LastFridayOfTermDueFirstDayOfNextTerm(t *testing.T) {
	r := newRouter(defaultPolicy(t), writeReference(t, worldOptions{}))
	in := baseIncident(london(2026, time.December, 18, 16, 0))
	in.Children = []ppn.Child{child("C-1", "Amy Pupil", "2018-05-01", ppn.EducationSchool, alphaPrimary)}

	school := only(t, decideIncident(t, r, in, in.OccurredAt.Add(time.Hour), routing.History{}), events.KindSchool)

	// Term starts Monday 4 January with an INSET day, so the first day
	// open to pupils is Tuesday 5 January.
	if want := london(2027, time.January, 5, 8, 30); !school.Request.DueAt.Equal(want) {
		t.Errorf("due_at = %s, want %s", school.Request.DueAt, want)
	}
	if want := in.OccurredAt.Add(24 * time.Hour); !school.SendBy.Equal(want) {
		t.Errorf("send_by = %s, want within 24 hours: %s", school.SendBy, want)
	}
}

func TestWorkedExample3_SaturdayNightHighRiskRedOnClock(t *testing.T) {
	p := defaultPolicy(t)
	ref := writeReference(t, worldOptions{})
	r := newRouter(p, ref)
	in := baseIncident(london(2026, time.November, 21, 22, 30))
	in.DASH = ppn.DASH{Level: ppn.DASHHigh, YesCount: intPtr(12)}
	in.Adults[0].Pregnant, in.Adults[0].ExpectedDueDate = true, "2027-03-01"
	in.Adults[1].OnProbation = true
	received := london(2026, time.November, 21, 23, 0)

	out := decideIncident(t, r, in, received, routing.History{})

	sunday3am := london(2026, time.November, 22, 3, 0)
	mash := only(t, out, events.KindMASH)
	if got := mash.Request.TriageDueAt; got == nil || !got.Equal(sunday3am) {
		t.Errorf("red triage due %v, want %s", got, sunday3am)
	}
	if !contains(mash.Request.Flags, "default_rag_red") {
		t.Errorf("MASH flags %v lack default_rag_red", mash.Request.Flags)
	}
	if want := in.OccurredAt.Add(time.Hour); !mash.Request.DueAt.Equal(want) {
		t.Errorf("MASH due %s, want 1 hour after the incident %s", mash.Request.DueAt, want)
	}
	for _, kind := range []events.RecipientKind{events.KindMidwifery, events.KindProbation} {
		n := only(t, out, kind)
		if !n.Request.DueAt.Equal(sunday3am) || n.Request.Calendar != "clock" {
			t.Errorf("%s due %s on %s, want %s on clock", kind, n.Request.DueAt, n.Request.Calendar, sunday3am)
		}
	}
}

func TestWorkedExample4_PregnantVictimNoChildrenNoSchoolNotice(t *testing.T) {
	r := newRouter(defaultPolicy(t), writeReference(t, worldOptions{}))
	in := baseIncident(london(2026, time.November, 18, 14, 0)) // a Wednesday
	in.DASH = ppn.DASH{Level: ppn.DASHMedium, YesCount: intPtr(8)}
	in.Adults[0].Pregnant, in.Adults[0].ExpectedDueDate, in.Adults[0].GPODSCode = true, "2027-04-01", alphaSurgery
	received := in.OccurredAt.Add(time.Hour)

	out := decideIncident(t, r, in, received, routing.History{})

	if diff := cmp.Diff([]events.RecipientKind{events.KindMASH, events.KindMidwifery}, kinds(out)); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
	mash := only(t, out, events.KindMASH)
	for _, flag := range []string{"default_rag_amber", "rag_reason_unborn", "pre_birth_consideration"} {
		if !contains(mash.Request.Flags, flag) {
			t.Errorf("MASH flags %v lack %s", mash.Request.Flags, flag)
		}
	}
	midwifery := only(t, out, events.KindMidwifery)
	if want := london(2026, time.November, 19, 23, 59).Add(59*time.Second + 999999999); !midwifery.Request.DueAt.Equal(want) {
		t.Errorf("midwifery due %s, want the end of the next working day %s", midwifery.Request.DueAt, want)
	}
	if !strings.Contains(string(midwifery.Request.Notice), `"expected_due_date":"2027-04-01"`) {
		t.Errorf("midwifery notice lacks the expected due date: %s", midwifery.Request.Notice)
	}
}

func TestWorkedExample5_NurseryChildHealthVisitorNotNurseryWhenLAOptedOut(t *testing.T) {
	in := baseIncident(london(2026, time.November, 18, 14, 0))
	in.Children = []ppn.Child{child("C-1", "Toby Toddler", "2023-06-01", ppn.EducationEarlyYears, acornsNursery)}
	for _, c := range []struct {
		name      string
		optIn     bool
		wantNotes int
	}{
		{"opted out: nursery not told", false, 0},
		{"opted in: nursery told", true, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRouter(defaultPolicy(t), writeReference(t, worldOptions{earlyYearsOptIn: c.optIn}))
			out := decideIncident(t, r, in, in.OccurredAt, routing.History{})
			if got := len(byKind(out, events.KindEarlyYears)); got != c.wantNotes {
				t.Errorf("early years notices = %d, want %d", got, c.wantNotes)
			}
			triage := decideTriage(t, r, out.Case, "amber", in.OccurredAt.Add(3*time.Hour))
			hv := only(t, triage, events.KindHealthVisiting)
			if diff := cmp.Diff([]string{"C-1"}, hv.Request.ChildIDs); diff != "" {
				t.Errorf("health visiting child_ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWorkedExample6_ProbationStandardDASHDueNextWorkingDayWithAgesNotSchools(t *testing.T) {
	r := newRouter(defaultPolicy(t), writeReference(t, worldOptions{}))
	in := baseIncident(london(2026, time.November, 19, 20, 0)) // a Thursday
	in.Adults[1].OnProbation = true
	in.Children = []ppn.Child{child("C-1", "Amy Pupil", "2018-05-01", ppn.EducationSchool, alphaPrimary)}

	probation := only(t, decideIncident(t, r, in, in.OccurredAt.Add(time.Hour), routing.History{}), events.KindProbation)

	endOfFriday := london(2026, time.November, 21, 0, 0).Add(-time.Nanosecond)
	if !probation.Request.DueAt.Equal(endOfFriday) || probation.Request.Calendar != "working_day" {
		t.Errorf("probation due %s on %s, want %s on working_day", probation.Request.DueAt, probation.Request.Calendar, endOfFriday)
	}
	var body struct {
		Children []map[string]any `json:"children"`
	}
	if err := json.Unmarshal(probation.Request.Notice, &body); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{"person_id": "C-1", "name": "Amy Pupil", "age_years": float64(8), "present": true}}
	if diff := cmp.Diff(want, body.Children); diff != "" {
		t.Errorf("profile D children (-want +got):\n%s", diff)
	}
	for _, forbidden := range []string{alphaPrimary, "Alpha Primary", "education", "date_of_birth\":\"2018"} {
		if strings.Contains(string(probation.Request.Notice), forbidden) {
			t.Errorf("probation notice shows %q: %s", forbidden, probation.Request.Notice)
		}
	}
}

func TestWorkedExample7_ThirdIncidentSameCoupleMARACAndRepeat(t *testing.T) {
	r := newRouter(defaultPolicy(t), writeReference(t, worldOptions{}))
	in := baseIncident(london(2026, time.November, 18, 21, 0))
	in.DASH = ppn.DASH{Level: ppn.DASHMedium, YesCount: intPtr(9)}
	in.Children = []ppn.Child{child("C-1", "Amy Pupil", "2018-05-01", ppn.EducationSchool, alphaPrimary)}
	// Lantern routed two earlier incidents of the same couple and child.
	history := routing.History{ChildIncidents: map[string]int{"C-1": 2}, SamePartiesIncidents: 2}

	out := decideIncident(t, r, in, in.OccurredAt, history)

	for _, kind := range []events.RecipientKind{events.KindMARAC, events.KindIDVA} {
		if n := only(t, out, kind); n.Request.RuleID != "R16" {
			t.Errorf("%s notice rule = %s, want R16", kind, n.Request.RuleID)
		}
	}
	mash := only(t, out, events.KindMASH)
	for _, flag := range []string{"escalation", "repeat_child", "cumulative_harm", "marac_criteria_met"} {
		if !contains(mash.Request.Flags, flag) {
			t.Errorf("MASH flags %v lack %s", mash.Request.Flags, flag)
		}
	}
	if school := only(t, out, events.KindSchool); !school.Request.Repeat {
		t.Error("the school notice is not marked repeat")
	}
}

func TestWorkedExample8_BankHolidayTuesdayOneWorkingDayDueWednesday(t *testing.T) {
	r := newRouter(defaultPolicy(t), writeReference(t, worldOptions{}))
	in := baseIncident(london(2026, time.October, 5, 9, 30)) // Monday; Tuesday is a bank holiday
	in.Adults[1].OnProbation = true
	received := london(2026, time.October, 5, 10, 0)

	probation := only(t, decideIncident(t, r, in, received, routing.History{}), events.KindProbation)

	endOfWednesday := london(2026, time.October, 8, 0, 0).Add(-time.Nanosecond)
	if !probation.Request.DueAt.Equal(endOfWednesday) {
		t.Errorf("due %s, want the end of Wednesday %s", probation.Request.DueAt, endOfWednesday)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package ppn_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// at sets when the incident happened and was reported.
func at(occurred, reported string) func(*ppn.Incident) {
	return func(in *ppn.Incident) {
		in.OccurredAt = mustTime(occurred)
		in.ReportedAt = mustTime(reported)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(*ppn.Incident)
		now    time.Time
		want   refusal
	}{
		{name: "the sample", change: func(*ppn.Incident) {}, want: refusal{}},
		{name: "no child and no pregnancy", change: func(in *ppn.Incident) {
			in.Children = nil
			in.Adults[0].Pregnant, in.Adults[0].ExpectedDueDate = false, ""
		}, want: refusal{}},
		{name: "unknown local authority", change: func(in *ppn.Incident) { in.LocalAuthorityCode = "E06000036" },
			want: refusal{422, []string{"/local_authority_code"}}},

		// Timestamps against each other and the clock (B11).
		{name: "occurred after reported", change: at("2026-11-20T22:41:00Z", "2026-11-20T22:40:00Z"),
			want: refusal{422, []string{"/occurred_at"}}},
		{name: "occurred equals reported", change: at("2026-11-20T22:40:00Z", "2026-11-20T22:40:00Z"), want: refusal{}},
		{name: "B11 in the future beyond the skew", change: at("2026-11-21T09:05:01Z", "2026-11-21T09:05:01Z"),
			want: refusal{422, []string{"/occurred_at", "/reported_at"}}},
		{name: "in the future within the skew", change: at("2026-11-21T09:05:00Z", "2026-11-21T09:05:00Z"), want: refusal{}},
		{name: "the skew holds for offsets too", change: at("2026-11-21T10:05:00+01:00", "2026-11-21T10:05:00+01:00"), want: refusal{}},
		{name: "B11 reported in year 9999", change: at("2026-11-20T22:15:00Z", "9999-12-31T23:59:59Z"),
			want: refusal{422, []string{"/reported_at"}}},
		{name: "B11 occurred in year 0001", change: at("0001-01-01T00:00:00Z", "2026-11-20T22:40:00Z"), want: refusal{422, []string{
			"/adults/0/date_of_birth", "/adults/0/expected_due_date", "/adults/1/date_of_birth", "/children/0/date_of_birth", "/occurred_at",
		}}},
		{name: "occurred ten years ago to the day", change: func(in *ppn.Incident) {
			at("2016-11-21T09:00:00Z", "2026-11-20T22:40:00Z")(in)
			in.Adults[0].Pregnant, in.Adults[0].ExpectedDueDate = false, ""
			in.Children[0].DateOfBirth = "2012-01-01"
		}, want: refusal{}},
		{name: "occurred a moment more than ten years ago", change: func(in *ppn.Incident) {
			at("2016-11-21T08:59:59Z", "2026-11-20T22:40:00Z")(in)
			in.Adults[0].Pregnant, in.Adults[0].ExpectedDueDate = false, ""
			in.Children[0].DateOfBirth = "2012-01-01"
		}, want: refusal{422, []string{"/occurred_at"}}},

		// Dates of birth (B11).
		{name: "B11 child born the day after the incident", change: func(in *ppn.Incident) { in.Children[0].DateOfBirth = "2026-11-21" },
			want: refusal{422, []string{"/children/0/date_of_birth"}}},
		{name: "child born on the day of the incident", change: func(in *ppn.Incident) { in.Children[0].DateOfBirth = "2026-11-20" },
			want: refusal{}},
		{name: "the incident's date is London's", change: func(in *ppn.Incident) {
			at("2026-06-30T23:30:00Z", "2026-06-30T23:45:00Z")(in) // 00:30 BST on 1 July
			in.Children[0].DateOfBirth = "2026-07-01"
			in.Adults[0].ExpectedDueDate = "2027-01-01"
		}, want: refusal{}},
		{name: "adult born after the incident", change: func(in *ppn.Incident) { in.Adults[1].DateOfBirth = "2027-01-01" },
			want: refusal{422, []string{"/adults/1/date_of_birth"}}},
		{name: "adult born more than 120 years before", change: func(in *ppn.Incident) { in.Adults[1].DateOfBirth = "1906-11-19" },
			want: refusal{422, []string{"/adults/1/date_of_birth"}}},
		{name: "adult born exactly 120 years before", change: func(in *ppn.Incident) { in.Adults[1].DateOfBirth = "1906-11-20" },
			want: refusal{}},
		{name: "B11 child born in year 0001", change: func(in *ppn.Incident) { in.Children[0].DateOfBirth = "0001-01-01" },
			want: refusal{422, []string{"/children/0/date_of_birth"}}},
		{name: "a child who turned 18 that day", change: func(in *ppn.Incident) { in.Children[0].DateOfBirth = "2008-11-20" },
			want: refusal{422, []string{"/children/0/date_of_birth"}}},
		{name: "a child who turns 18 the next day", change: func(in *ppn.Incident) { in.Children[0].DateOfBirth = "2008-11-21" },
			want: refusal{}},
		{name: "a leap-day child is 17 on 28 February", change: func(in *ppn.Incident) {
			at("2026-02-28T12:00:00Z", "2026-02-28T12:30:00Z")(in)
			in.Children[0].DateOfBirth = "2008-02-29"
			in.Adults[0].ExpectedDueDate = "2026-06-01"
		}, want: refusal{}},
		{name: "a leap-day child is 18 on 1 March", change: func(in *ppn.Incident) {
			at("2026-03-01T12:00:00Z", "2026-03-01T12:30:00Z")(in)
			in.Children[0].DateOfBirth = "2008-02-29"
			in.Adults[0].ExpectedDueDate = "2026-06-01"
		}, want: refusal{422, []string{"/children/0/date_of_birth"}}},

		// Pregnancy.
		{name: "due date without a pregnancy", change: func(in *ppn.Incident) { in.Adults[0].Pregnant = false },
			want: refusal{422, []string{"/adults/0/expected_due_date"}}},
		{name: "pregnant without a due date", change: func(in *ppn.Incident) { in.Adults[0].ExpectedDueDate = "" }, want: refusal{}},
		{name: "due 14 days before the incident", change: func(in *ppn.Incident) { in.Adults[0].ExpectedDueDate = "2026-11-06" },
			want: refusal{}},
		{name: "due 15 days before the incident", change: func(in *ppn.Incident) { in.Adults[0].ExpectedDueDate = "2026-11-05" },
			want: refusal{422, []string{"/adults/0/expected_due_date"}}},
		{name: "due 10 months after the incident", change: func(in *ppn.Incident) { in.Adults[0].ExpectedDueDate = "2027-09-20" },
			want: refusal{}},
		{name: "due more than 10 months after the incident", change: func(in *ppn.Incident) { in.Adults[0].ExpectedDueDate = "2027-09-21" },
			want: refusal{422, []string{"/adults/0/expected_due_date"}}},

		// Identifiers (B12).
		{name: "B12 NHS number failing modulus 11", change: func(in *ppn.Incident) { in.Children[0].NHSNumber = "9434765918" },
			want: refusal{422, []string{"/children/0/nhs_number"}}},
		{name: "person_id shared by an adult and a child", change: func(in *ppn.Incident) { in.Children[0].PersonID = "P-1" },
			want: refusal{422, []string{"/children/0/person_id"}}},
		{name: "person_id shared by two adults", change: func(in *ppn.Incident) { in.Adults[1].PersonID = "P-1" },
			want: refusal{422, []string{"/adults/1/person_id"}}},
		{name: "person_id shared by two children", change: func(in *ppn.Incident) {
			in.Children = append(in.Children, in.Children[0])
		}, want: refusal{422, []string{"/children/1/person_id"}}},

		{name: "every problem is listed", change: func(in *ppn.Incident) {
			in.LocalAuthorityCode = "W06000001"
			in.Children[0].NHSNumber = "1234567890"
			in.Adults[1].PersonID = "C-1"
		}, want: refusal{422, []string{"/children/0/nhs_number", "/children/0/person_id", "/local_authority_code"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := mustDecode(t, sample(t))
			tc.change(in)

			err := in.Validate(medway, now)

			if diff := cmp.Diff(tc.want, refusalOf(t, err)); diff != "" {
				t.Errorf("Validate refusal mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestValidateDetails(t *testing.T) {
	t.Parallel()
	in := mustDecode(t, sample(t))
	in.Children[0].PersonID = "P-2"
	in.Children[0].DateOfBirth = "2001-01-01"

	err := in.Validate(medway, now)

	want := &ppn.Error{Status: 422, Title: ppn.TitleRules, Problems: []ppn.FieldProblem{
		{Pointer: "/children/0/date_of_birth", Detail: "makes this person 18 or over on the incident's date; list them under adults"},
		{Pointer: "/children/0/person_id", Detail: "repeats the person_id at /adults/1/person_id"},
	}}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("Validate mismatch (-want +got):\n%s", diff)
	}
}

func TestValidNHSNumber(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"9434765919":  true,
		"4010232137":  true,
		"1000000001":  true,
		"0000000000":  true, // remainder 0 gives check digit 0
		"9434765918":  false,
		"4010232138":  false,
		"1234567890":  false, // the check digit would be 10: no such number
		"1234567891":  false,
		"943476591":   false,
		"94347659190": false,
		"943476591a":  false,
		"":            false,
	}
	for number, want := range cases {
		if got := ppn.ValidNHSNumber(number); got != want {
			t.Errorf("ValidNHSNumber(%q) = %v, want %v", number, got, want)
		}
	}
}

// TestValidateChildAges walks a child's 18th birthday across every day of a
// year whose children were born in a leap year, so that the age arithmetic
// is checked on month ends and on 29 February.
func TestValidateChildAges(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for range 365 {
		in := mustDecode(t, sample(t))
		in.OccurredAt, in.ReportedAt = day, day
		in.Adults[0].Pregnant, in.Adults[0].ExpectedDueDate = false, ""
		eighteenToday := day.AddDate(-18, 0, 0)
		eighteenTomorrow := day.AddDate(-18, 0, 1)
		for dob, wantRefused := range map[time.Time]bool{eighteenToday: true, eighteenTomorrow: false} {
			in.Children[0].DateOfBirth = dob.Format(time.DateOnly)
			err := in.Validate(medway, day.Add(time.Hour))
			if refused := err != nil; refused != wantRefused {
				t.Errorf("incident on %s, child born %s: refused = %v, want %v (%v)",
					day.Format(time.DateOnly), in.Children[0].DateOfBirth, refused, wantRefused, err)
			}
		}
		day = day.AddDate(0, 0, 1)
	}
}

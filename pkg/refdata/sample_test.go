package refdata_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// sampleDir is the sample data shipped with Lantern, the default
// LANTERN_REFERENCE_DIR.
const sampleDir = "../../reference"

func loadSample(t *testing.T) *refdata.Set {
	t.Helper()
	set, err := refdata.Load(sampleDir)
	if err != nil {
		t.Fatalf("Load(%s): %v", sampleDir, err)
	}
	return set
}

func mustDate(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate: %v", err)
	}
	return d
}

func mustHours(t *testing.T, s string) calendar.OpeningHours {
	t.Helper()
	h, err := calendar.ParseOpeningHours(s)
	if err != nil {
		t.Fatalf("ParseOpeningHours: %v", err)
	}
	return h
}

// checkLocalAuthority requires set to hold want under its code.
func checkLocalAuthority(t *testing.T, set *refdata.Set, want refdata.LocalAuthority) {
	t.Helper()
	got, ok := set.LocalAuthority(want.Code)
	if !ok {
		t.Fatalf("LocalAuthority(%s) not found", want.Code)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LocalAuthority(%s) (-want +got):\n%s", want.Code, diff)
	}
}

// TestSampleHasTheContractExample checks the records the PPN example in
// contract.md section 1 points at.
func TestSampleHasTheContractExample(t *testing.T) {
	t.Parallel()
	set := loadSample(t)

	checkLocalAuthority(t, set, refdata.LocalAuthority{Code: "E06000035", Name: "Medway Council",
		MASHEmail: "mash@medway.lantern.test", MASHHours: mustHours(t, "Mon-Fri 09:00-17:00"), EarlyYearsOptIn: false})

	school, ok := set.School("118234")
	if !ok {
		t.Fatal("School(118234) not found")
	}
	wantSchool := refdata.School{URN: "118234", Name: "Chatham Hill Primary School",
		LocalAuthorityCode: "E06000035", Phase: refdata.PhasePrimary,
		DSLEmail: "dsl@chathamhill-primary.medway.lantern.test",
		Calendar: calendar.SchoolCalendar{ID: "medway-standard", DayStart: calendar.TimeOfDay{Hour: 8, Minute: 40}}}
	ignoreDays := cmpopts.IgnoreFields(calendar.SchoolCalendar{}, "Terms", "Closed")
	if diff := cmp.Diff(wantSchool, school, ignoreDays); diff != "" {
		t.Errorf("School(118234) (-want +got):\n%s", diff)
	}
	autumn := calendar.Term{Start: mustDate(t, "2026-09-01"), End: mustDate(t, "2026-10-23")}
	if !slices.Contains(school.Calendar.Terms, autumn) || !school.Calendar.Closed[mustDate(t, "2026-09-01")] {
		t.Errorf("School(118234) calendar lacks the 2026 autumn term or its INSET day: %+v", school.Calendar)
	}

	wantGP := refdata.GPPractice{ODSCode: "G82001", Name: "Chatham Maritime Medical Practice",
		SafeguardingEmail: "safeguarding.g82001@nhs.lantern.test"}
	gotGP, ok := set.GPPractice("G82001")
	if diff := cmp.Diff(wantGP, gotGP); !ok || diff != "" {
		t.Errorf("GPPractice(G82001) found=%t (-want +got):\n%s", ok, diff)
	}
}

// TestSampleCoversEveryServiceKind checks that a notice of any kind can be
// routed in every sample local authority.
func TestSampleCoversEveryServiceKind(t *testing.T) {
	t.Parallel()
	set := loadSample(t)
	las := set.LocalAuthorities()
	if len(las) != 3 {
		t.Errorf("sample has %d local authorities, want 3", len(las))
	}
	for _, la := range las {
		for _, kind := range refdata.ServiceKinds() {
			service, ok := set.Service(la.Code, kind)
			if !ok || service.Kind != kind || service.LocalAuthorityCode != la.Code {
				t.Errorf("Service(%s, %s) = %+v, %t", la.Code, kind, service, ok)
			}
		}
	}
	if _, ok := set.Service("E06000035", events.KindMASH); ok {
		t.Errorf("Service(E06000035, mash) found; the MASH is in local_authorities.csv")
	}
}

// TestSampleCalendarsAreSchoolYears checks that every sample school's
// calendar spans 2025/26 and 2026/27 and names only weekdays.
func TestSampleCalendarsAreSchoolYears(t *testing.T) {
	t.Parallel()
	set := loadSample(t)
	first, last := mustDate(t, "2025-09-04"), mustDate(t, "2027-07-20")
	for _, school := range set.Schools() {
		terms := school.Calendar.Terms
		if len(terms) != 12 || first.Before(terms[0].Start) || terms[len(terms)-1].End.Before(last) {
			t.Errorf("school %s: calendar %s has %d terms from %v to %v, want 12 from before %s to after %s",
				school.URN, school.Calendar.ID, len(terms), terms[0].Start, terms[len(terms)-1].End, first, last)
		}
		for _, term := range terms {
			for _, d := range []calendar.Date{term.Start, term.End} {
				if isWeekend(d) {
					t.Errorf("school %s: term boundary %s is a %s", school.URN, d, d.Weekday())
				}
			}
		}
		for d := range school.Calendar.Closed {
			if isWeekend(d) {
				t.Errorf("school %s: closed day %s is a %s", school.URN, d, d.Weekday())
			}
		}
	}
}

func isWeekend(d calendar.Date) bool {
	return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
}

// TestSampleBankHolidaysFollowTheRules derives the England and Wales bank
// holidays from the rules that fix them, and checks the sample file
// against them for 2025 to 2027.
func TestSampleBankHolidaysFollowTheRules(t *testing.T) {
	t.Parallel()
	var want []calendar.Date
	for year := 2025; year <= 2027; year++ {
		want = append(want, bankHolidays(year)...)
	}
	got := make([]calendar.Date, 0, len(want))
	for d := range loadSample(t).Holidays() {
		got = append(got, d)
	}
	byDate := cmpopts.SortSlices(func(a, b calendar.Date) bool { return a.Before(b) })
	if diff := cmp.Diff(want, got, byDate); diff != "" {
		t.Errorf("sample bank holidays (-want +got):\n%s", diff)
	}
}

// bankHolidays returns a year's England and Wales bank holidays: New Year's
// Day, Good Friday, Easter Monday, the first and last Mondays of May, the
// last Monday of August, Christmas Day and Boxing Day, with the weekday that
// replaces each one falling on a weekend.
func bankHolidays(year int) []calendar.Date {
	easter := easterSunday(year)
	christmas, boxingDay := civil(year, time.December, 25), civil(year, time.December, 26)
	switch christmas.Weekday() {
	case time.Friday:
		boxingDay = christmas.AddDays(3)
	case time.Saturday:
		christmas, boxingDay = christmas.AddDays(2), christmas.AddDays(3)
	case time.Sunday:
		christmas = christmas.AddDays(2)
	}
	return []calendar.Date{
		nextWeekday(civil(year, time.January, 1)),
		easter.AddDays(-2),
		easter.AddDays(1),
		firstMonday(civil(year, time.May, 1)),
		lastMonday(civil(year, time.May, 31)),
		lastMonday(civil(year, time.August, 31)),
		christmas,
		boxingDay,
	}
}

func civil(year int, month time.Month, day int) calendar.Date {
	return calendar.Date{Year: year, Month: month, Day: day}
}

func nextWeekday(d calendar.Date) calendar.Date {
	for isWeekend(d) {
		d = d.AddDays(1)
	}
	return d
}

func firstMonday(d calendar.Date) calendar.Date {
	for d.Weekday() != time.Monday {
		d = d.AddDays(1)
	}
	return d
}

func lastMonday(d calendar.Date) calendar.Date {
	for d.Weekday() != time.Monday {
		d = d.AddDays(-1)
	}
	return d
}

// easterSunday uses the anonymous Gregorian computus.
func easterSunday(year int) calendar.Date {
	a, b, c := year%19, year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return civil(year, time.Month(month), day)
}

// TestSetHandsOutCopies shows that changing what a lookup returned does not
// change the set, which other goroutines share.
func TestSetHandsOutCopies(t *testing.T) {
	t.Parallel()
	set := loadSample(t)
	christmas := mustDate(t, "2026-12-25")
	set.Holidays()[christmas] = false
	if !set.Holidays()[christmas] {
		t.Errorf("changing Holidays()'s result changed the set")
	}
	school, _ := set.School("118234")
	inset := mustDate(t, "2026-09-01")
	delete(school.Calendar.Closed, inset)
	school.Calendar.Terms[0] = calendar.Term{}
	again, _ := set.School("118234")
	if !again.Calendar.Closed[inset] || again.Calendar.Terms[0] == (calendar.Term{}) {
		t.Errorf("changing School()'s calendar changed the set")
	}
}

package calendar_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// stamp is how the tests write instants: the weekday and the zone name make
// a wrong day or a wrong side of a clock change visible in a failure, and
// the fraction shows the end-of-day nanosecond.
const stamp = "Mon 2006-01-02 15:04:05.999999999 MST"

// at reads an instant written in stamp form in London time. It fails the
// test when the text is not exactly how that instant prints, which catches a
// mistyped weekday or a zone name that does not hold on that date.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	got, err := time.ParseInLocation(stamp, s, calendar.London)
	if err != nil {
		t.Fatalf("reading test instant %q: %v", s, err)
	}
	if printed := got.Format(stamp); printed != s {
		t.Fatalf("test instant %q prints as %q", s, printed)
	}
	return got
}

func date(t testing.TB, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatalf("reading test date: %v", err)
	}
	return d
}

func holidays(t testing.TB, dates ...string) calendar.Holidays {
	t.Helper()
	hol := calendar.Holidays{}
	for _, s := range dates {
		hol[date(t, s)] = true
	}
	return hol
}

// englandAndWales holds the England and Wales bank holidays of 2026 to 2028.
func englandAndWales(t testing.TB) calendar.Holidays {
	t.Helper()
	return holidays(t,
		"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
		"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28",
		"2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-29", "2028-08-28", "2028-12-25", "2028-12-26",
	)
}

func weekly(open, closing calendar.TimeOfDay, days ...time.Weekday) calendar.OpeningHours {
	oh := calendar.OpeningHours{Open: open, Close: closing}
	for _, d := range days {
		oh.Days[d] = true
	}
	return oh
}

var (
	weekdays   = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	everyDay   = append([]time.Weekday{time.Sunday, time.Saturday}, weekdays...)
	officeDays = weekly(calendar.TimeOfDay{Hour: 9}, calendar.TimeOfDay{Hour: 17}, weekdays...)
	allHours   = weekly(calendar.TimeOfDay{}, calendar.TimeOfDay{Hour: 24}, everyDay...)
)

func TestAddClock(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		start string
		limit time.Duration
		want  string
	}{
		{"example 3: DASH high at 23:00 Saturday, 4 h", "Sat 2026-06-13 23:00:00 BST", 4 * time.Hour, "Sun 2026-06-14 03:00:00 BST"},
		{"4 h from 00:30 as the clocks go forward", "Sun 2026-03-29 00:30:00 GMT", 4 * time.Hour, "Sun 2026-03-29 05:30:00 BST"},
		{"4 h from 00:30 as the clocks go back", "Sun 2026-10-25 00:30:00 BST", 4 * time.Hour, "Sun 2026-10-25 03:30:00 GMT"},
		{"example 3 on the night the clocks go back", "Sat 2026-10-24 23:00:00 BST", 4 * time.Hour, "Sun 2026-10-25 02:00:00 GMT"},
		{"from the repeated hour as the clocks go back", "Sun 2026-10-25 01:30:00 GMT", time.Hour, "Sun 2026-10-25 02:30:00 GMT"},
		{"24 h across the spring change is 25 h on the clock face", "Sat 2026-03-28 12:00:00 GMT", 24 * time.Hour, "Sun 2026-03-29 13:00:00 BST"},
		{"24 h across the autumn change is 23 h on the clock face", "Sat 2026-10-24 12:00:00 BST", 24 * time.Hour, "Sun 2026-10-25 11:00:00 GMT"},
		{"into 29 February", "Mon 2028-02-28 23:30:00 GMT", time.Hour, "Tue 2028-02-29 00:30:00 GMT"},
		{"from 23:59", "Tue 2028-02-29 23:59:00 GMT", time.Hour, "Wed 2028-03-01 00:59:00 GMT"},
		{"from 00:00", "Wed 2028-03-01 00:00:00 GMT", time.Hour, "Wed 2028-03-01 01:00:00 GMT"},
		{"a UTC start comes back in London time", "Mon 2026-06-15 09:00:00 UTC", time.Hour, "Mon 2026-06-15 11:00:00 BST"},
		{"zero limit", "Mon 2026-06-15 09:00:00 BST", 0, "Mon 2026-06-15 09:00:00 BST"},
		{"a negative limit counts as zero", "Mon 2026-06-15 09:00:00 BST", -time.Hour, "Mon 2026-06-15 09:00:00 BST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := calendar.AddClock(at(t, tc.start), tc.limit).Format(stamp)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("AddClock(%s, %v) mismatch (-want +got):\n%s", tc.start, tc.limit, diff)
			}
		})
	}
}

func TestAddOpeningHours(t *testing.T) {
	t.Parallel()
	bankHolidays := englandAndWales(t)
	everyDayForYears := calendar.Holidays{}
	for d := date(t, "2026-06-15"); d.Before(date(t, "2037-01-01")); d = d.AddDays(1) {
		everyDayForYears[d] = true
	}
	cases := []struct {
		name  string
		start string
		limit time.Duration
		hours calendar.OpeningHours
		hol   calendar.Holidays
		want  string
	}{
		{"inside hours, same day", "Mon 2026-06-15 10:00:00 BST", 4 * time.Hour, officeDays, nil, "Mon 2026-06-15 14:00:00 BST"},
		{"ends exactly at the close", "Mon 2026-06-15 09:00:00 BST", 8 * time.Hour, officeDays, nil, "Mon 2026-06-15 17:00:00 BST"},
		{"carries over to the next morning", "Mon 2026-06-15 15:00:00 BST", 4 * time.Hour, officeDays, nil, "Tue 2026-06-16 11:00:00 BST"},
		{"Amber 24 h is three office days", "Mon 2026-06-15 10:00:00 BST", 24 * time.Hour, officeDays, nil, "Thu 2026-06-18 10:00:00 BST"},
		{"before opening counts from the opening", "Tue 2026-06-16 07:00:00 BST", time.Hour, officeDays, nil, "Tue 2026-06-16 10:00:00 BST"},
		{"starting at the close counts from the next opening", "Mon 2026-06-15 17:00:00 BST", time.Hour, officeDays, nil, "Tue 2026-06-16 10:00:00 BST"},
		{"Friday evening counts from Monday", "Fri 2026-06-12 19:00:00 BST", 4 * time.Hour, officeDays, nil, "Mon 2026-06-15 13:00:00 BST"},
		{"Saturday counts from Monday", "Sat 2026-06-13 12:00:00 BST", time.Hour, officeDays, nil, "Mon 2026-06-15 10:00:00 BST"},
		{"bank holiday Monday is closed", "Fri 2026-05-01 16:00:00 BST", 2 * time.Hour, officeDays, bankHolidays, "Tue 2026-05-05 10:00:00 BST"},
		{"Green 72 h over Christmas and New Year", "Thu 2026-12-24 09:00:00 GMT", 72 * time.Hour, officeDays, bankHolidays, "Fri 2027-01-08 17:00:00 GMT"},
		{"office hours over the spring change", "Fri 2026-03-27 16:00:00 GMT", 2 * time.Hour, officeDays, nil, "Mon 2026-03-30 10:00:00 BST"},
		{"office hours over the autumn change", "Fri 2026-10-23 16:00:00 BST", 2 * time.Hour, officeDays, nil, "Mon 2026-10-26 10:00:00 GMT"},
		{"24-hour days over the spring change are real time", "Sat 2026-03-28 12:00:00 GMT", 24 * time.Hour, allHours, nil, "Sun 2026-03-29 13:00:00 BST"},
		{"24-hour days over the autumn change are real time", "Sat 2026-10-24 12:00:00 BST", 24 * time.Hour, allHours, nil, "Sun 2026-10-25 11:00:00 GMT"},
		{"the spring-forward Sunday lasts 23 h", "Sun 2026-03-29 00:00:00 GMT", 23 * time.Hour, allHours, nil, "Mon 2026-03-30 00:00:00 BST"},
		{"the fall-back Sunday lasts 25 h", "Sun 2026-10-25 00:00:00 BST", 25 * time.Hour, allHours, nil, "Mon 2026-10-26 00:00:00 GMT"},
		{"24-hour days skip a bank holiday", "Sun 2026-05-03 23:00:00 BST", 2 * time.Hour, allHours, bankHolidays, "Tue 2026-05-05 01:00:00 BST"},
		{"into 29 February", "Mon 2028-02-28 16:00:00 GMT", 2 * time.Hour, officeDays, nil, "Tue 2028-02-29 10:00:00 GMT"},
		{"from 23:59", "Tue 2028-02-29 23:59:00 GMT", time.Hour, officeDays, nil, "Wed 2028-03-01 10:00:00 GMT"},
		{"from 00:00", "Wed 2028-03-01 00:00:00 GMT", time.Hour, officeDays, nil, "Wed 2028-03-01 10:00:00 GMT"},
		{"zero limit returns the start, even when closed", "Sat 2026-06-13 12:00:00 BST", 0, officeDays, nil, "Sat 2026-06-13 12:00:00 BST"},
		{"a negative limit returns the start", "Mon 2026-06-15 10:00:00 BST", -time.Hour, officeDays, nil, "Mon 2026-06-15 10:00:00 BST"},
		{"hours that never open count as clock time", "Sat 2026-06-13 12:00:00 BST", 4 * time.Hour, calendar.OpeningHours{}, nil, "Sat 2026-06-13 16:00:00 BST"},
		{"hours closing before they open count as clock time", "Sat 2026-06-13 12:00:00 BST", 4 * time.Hour,
			weekly(calendar.TimeOfDay{Hour: 17}, calendar.TimeOfDay{Hour: 9}, weekdays...), nil, "Sat 2026-06-13 16:00:00 BST"},
		{"holidays on every day give up after ten years", "Mon 2026-06-15 10:00:00 BST", time.Hour, officeDays, everyDayForYears, "Sun 2036-06-15 01:00:00 BST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := calendar.AddOpeningHours(at(t, tc.start), tc.limit, tc.hours, tc.hol).Format(stamp)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("AddOpeningHours(%s, %v) mismatch (-want +got):\n%s", tc.start, tc.limit, diff)
			}
		})
	}
}

func TestEndOfWorkingDay(t *testing.T) {
	t.Parallel()
	bankHolidays := englandAndWales(t)
	cases := []struct {
		name  string
		start string
		days  int
		hol   calendar.Holidays
		want  string
	}{
		{"example 8: Monday 10:00 with a bank holiday on Tuesday", "Mon 2026-06-01 10:00:00 BST", 1, holidays(t, "2026-06-02"), "Wed 2026-06-03 23:59:59.999999999 BST"},
		{"same working day", "Tue 2026-06-02 10:00:00 BST", 0, nil, "Tue 2026-06-02 23:59:59.999999999 BST"},
		{"Friday evening, one day", "Fri 2026-06-12 19:00:00 BST", 1, nil, "Mon 2026-06-15 23:59:59.999999999 BST"},
		{"Saturday, one day", "Sat 2026-06-13 12:00:00 BST", 1, nil, "Mon 2026-06-15 23:59:59.999999999 BST"},
		{"Saturday, same working day", "Sat 2026-06-13 12:00:00 BST", 0, nil, "Mon 2026-06-15 23:59:59.999999999 BST"},
		{"Saturday, two days", "Sat 2026-06-13 12:00:00 BST", 2, nil, "Tue 2026-06-16 23:59:59.999999999 BST"},
		{"bank holiday Monday, one day", "Mon 2026-05-04 09:00:00 BST", 1, bankHolidays, "Tue 2026-05-05 23:59:59.999999999 BST"},
		{"bank holiday Monday, same working day", "Mon 2026-05-04 09:00:00 BST", 0, bankHolidays, "Tue 2026-05-05 23:59:59.999999999 BST"},
		{"three days over Easter", "Thu 2026-04-02 10:00:00 BST", 3, bankHolidays, "Thu 2026-04-09 23:59:59.999999999 BST"},
		{"one day over Christmas", "Thu 2026-12-24 16:00:00 GMT", 1, bankHolidays, "Tue 2026-12-29 23:59:59.999999999 GMT"},
		{"R7: 45 days", "Mon 2026-09-07 10:00:00 BST", 45, bankHolidays, "Mon 2026-11-09 23:59:59.999999999 GMT"},
		{"one day over the spring change", "Fri 2026-03-27 12:00:00 GMT", 1, nil, "Mon 2026-03-30 23:59:59.999999999 BST"},
		{"received in the lost hour's night", "Sun 2026-03-29 00:30:00 GMT", 0, nil, "Mon 2026-03-30 23:59:59.999999999 BST"},
		{"one day over the autumn change", "Fri 2026-10-23 12:00:00 BST", 1, nil, "Mon 2026-10-26 23:59:59.999999999 GMT"},
		{"received in the repeated hour", "Sun 2026-10-25 01:30:00 GMT", 1, nil, "Mon 2026-10-26 23:59:59.999999999 GMT"},
		{"into 29 February", "Mon 2028-02-28 10:00:00 GMT", 1, nil, "Tue 2028-02-29 23:59:59.999999999 GMT"},
		{"from 23:59 the same day still counts", "Tue 2028-02-29 23:59:00 GMT", 0, nil, "Tue 2028-02-29 23:59:59.999999999 GMT"},
		{"from 23:59, one day", "Tue 2028-02-29 23:59:00 GMT", 1, nil, "Wed 2028-03-01 23:59:59.999999999 GMT"},
		{"from 00:00", "Wed 2028-03-01 00:00:00 GMT", 0, nil, "Wed 2028-03-01 23:59:59.999999999 GMT"},
		{"a UTC receipt uses the London date", "Mon 2026-06-15 23:30:00 UTC", 0, nil, "Tue 2026-06-16 23:59:59.999999999 BST"},
		{"a negative count is the same working day", "Tue 2026-06-02 10:00:00 BST", -3, nil, "Tue 2026-06-02 23:59:59.999999999 BST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := calendar.EndOfWorkingDay(at(t, tc.start), tc.days, tc.hol).Format(stamp)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EndOfWorkingDay(%s, %d) mismatch (-want +got):\n%s", tc.start, tc.days, diff)
			}
		})
	}
}

func schoolYear(t testing.TB, id string, dayStart calendar.TimeOfDay, closed []string, terms ...string) calendar.SchoolCalendar {
	t.Helper()
	sc := calendar.SchoolCalendar{ID: id, DayStart: dayStart, Closed: map[calendar.Date]bool{}}
	for _, d := range closed {
		sc.Closed[date(t, d)] = true
	}
	for i := 0; i+1 < len(terms); i += 2 {
		sc.Terms = append(sc.Terms, calendar.Term{Start: date(t, terms[i]), End: date(t, terms[i+1])})
	}
	return sc
}

func TestNextSchoolDayStart(t *testing.T) {
	t.Parallel()
	eightThirty := calendar.TimeOfDay{Hour: 8, Minute: 30}
	autumn := schoolYear(t, "autumn-2026", eightThirty, []string{"2026-09-04"},
		"2026-09-03", "2026-10-23", "2026-11-02", "2026-12-18")
	unsorted := schoolYear(t, "unsorted", eightThirty, nil,
		"2026-11-02", "2026-12-18", "2026-09-03", "2026-10-23")
	spring := schoolYear(t, "spring-2026", eightThirty, nil,
		"2026-02-23", "2026-03-27", "2026-04-13", "2026-07-22")
	overEaster := schoolYear(t, "over-easter", calendar.TimeOfDay{Hour: 8, Minute: 45}, nil,
		"2026-03-02", "2026-04-02")
	leapYear := schoolYear(t, "leap-2028", eightThirty, nil,
		"2028-01-04", "2028-02-11", "2028-02-21", "2028-03-31")
	allClosed := schoolYear(t, "all-closed", eightThirty,
		[]string{"2026-09-07", "2026-09-08", "2026-09-09", "2026-09-10", "2026-09-11"},
		"2026-09-07", "2026-09-13")
	bankHolidays := englandAndWales(t)

	cases := []struct {
		name     string
		incident string
		school   calendar.SchoolCalendar
		hol      calendar.Holidays
		want     string
		wantErr  error
	}{
		{name: "example 1: Friday 19:00 is due Monday 08:30", incident: "Fri 2026-09-11 19:00:00 BST", school: autumn, want: "Mon 2026-09-14 08:30:00 BST"},
		{name: "example 2: last Friday of term is due on the first day of the next", incident: "Fri 2026-10-23 19:00:00 BST", school: autumn, want: "Mon 2026-11-02 08:30:00 GMT"},
		{name: "terms need not be sorted", incident: "Fri 2026-10-23 19:00:00 BST", school: unsorted, want: "Mon 2026-11-02 08:30:00 GMT"},
		{name: "an INSET day is skipped", incident: "Thu 2026-09-03 19:00:00 BST", school: autumn, want: "Mon 2026-09-07 08:30:00 BST"},
		{name: "before the day's start is due that morning", incident: "Tue 2026-09-15 06:00:00 BST", school: autumn, want: "Tue 2026-09-15 08:30:00 BST"},
		{name: "at the day's start is due the next morning", incident: "Tue 2026-09-15 08:30:00 BST", school: autumn, want: "Wed 2026-09-16 08:30:00 BST"},
		{name: "during the school day is due the next morning", incident: "Tue 2026-09-15 12:00:00 BST", school: autumn, want: "Wed 2026-09-16 08:30:00 BST"},
		{name: "at 00:00", incident: "Tue 2026-09-15 00:00:00 BST", school: autumn, want: "Tue 2026-09-15 08:30:00 BST"},
		{name: "at 23:59", incident: "Mon 2026-09-14 23:59:00 BST", school: autumn, want: "Tue 2026-09-15 08:30:00 BST"},
		{name: "before the first term", incident: "Sat 2026-08-01 12:00:00 BST", school: autumn, want: "Thu 2026-09-03 08:30:00 BST"},
		{name: "bank holiday Monday closed when holidays are given", incident: "Fri 2026-05-01 19:00:00 BST", school: spring, hol: bankHolidays, want: "Tue 2026-05-05 08:30:00 BST"},
		{name: "bank holiday Monday follows the calendar alone", incident: "Fri 2026-05-01 19:00:00 BST", school: spring, want: "Mon 2026-05-04 08:30:00 BST"},
		{name: "clocks go forward in term", incident: "Sun 2026-03-29 00:30:00 GMT", school: overEaster, want: "Mon 2026-03-30 08:45:00 BST"},
		{name: "clocks go forward in the holidays", incident: "Sun 2026-03-29 00:30:00 GMT", school: spring, want: "Mon 2026-04-13 08:30:00 BST"},
		{name: "clocks go back in half term", incident: "Sun 2026-10-25 01:30:00 GMT", school: autumn, want: "Mon 2026-11-02 08:30:00 GMT"},
		{name: "into 29 February", incident: "Mon 2028-02-28 19:00:00 GMT", school: leapYear, want: "Tue 2028-02-29 08:30:00 GMT"},
		{name: "from 29 February", incident: "Tue 2028-02-29 23:59:00 GMT", school: leapYear, want: "Wed 2028-03-01 08:30:00 GMT"},
		{name: "after the last term", incident: "Fri 2026-12-18 19:00:00 GMT", school: autumn, wantErr: calendar.ErrNoSchoolDay},
		{name: "on the last day after the start", incident: "Thu 2026-04-02 09:00:00 BST", school: overEaster, wantErr: calendar.ErrNoSchoolDay},
		{name: "every day of the term closed", incident: "Sun 2026-09-06 12:00:00 BST", school: allClosed, wantErr: calendar.ErrNoSchoolDay},
		{name: "no terms at all", incident: "Sun 2026-09-06 12:00:00 BST", school: calendar.SchoolCalendar{ID: "empty"}, wantErr: calendar.ErrNoSchoolDay},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			due, err := calendar.NextSchoolDayStartWithHolidays(at(t, tc.incident), tc.school, tc.hol)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("NextSchoolDayStartWithHolidays(%s, %s) error = %v, want %v", tc.incident, tc.school.ID, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, due.Format(stamp)); diff != "" {
				t.Errorf("NextSchoolDayStartWithHolidays(%s, %s) mismatch (-want +got):\n%s", tc.incident, tc.school.ID, diff)
			}
		})
	}
}

// TestNextSchoolDayStartIgnoresNoHolidays checks that the short form is the
// holiday-aware form with no holidays.
func TestNextSchoolDayStartIgnoresNoHolidays(t *testing.T) {
	t.Parallel()
	spring := schoolYear(t, "spring-2026", calendar.TimeOfDay{Hour: 8, Minute: 30}, nil, "2026-04-13", "2026-07-22")
	due, err := calendar.NextSchoolDayStart(at(t, "Fri 2026-05-01 19:00:00 BST"), spring)
	if err != nil {
		t.Fatalf("NextSchoolDayStart: %v", err)
	}
	if diff := cmp.Diff("Mon 2026-05-04 08:30:00 BST", due.Format(stamp)); diff != "" {
		t.Errorf("NextSchoolDayStart mismatch (-want +got):\n%s", diff)
	}
}

// TestDeadlineProperties draws seeded random cases and checks the invariants
// that FuzzDeadlines checks, so they hold on every ordinary test run.
func TestDeadlineProperties(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	rng := rand.New(rand.NewPCG(2026, 3))
	for range 3000 {
		in := fuzzInput{
			startOffset: rng.Int64(),
			laterBy:     rng.Int64(),
			minutes:     rng.Int64N(7*24*60) - 60,
			days:        uint8(rng.IntN(256)),
			openQuarter: uint8(rng.IntN(256)),
			lenQuarters: uint8(rng.IntN(256)),
			workingDays: uint8(rng.IntN(256)),
		}
		checkInvariants(t, fx, in)
	}
}

// TestOpeningHoursAgainstMinuteCount compares AddOpeningHours with a plain
// count of open minutes, read from the wall clock one minute at a time.
func TestOpeningHoursAgainstMinuteCount(t *testing.T) {
	t.Parallel()
	bankHolidays := englandAndWales(t)
	hourSets := []calendar.OpeningHours{
		officeDays,
		allHours,
		weekly(calendar.TimeOfDay{Hour: 8}, calendar.TimeOfDay{Hour: 20}, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday),
		weekly(calendar.TimeOfDay{Hour: 7, Minute: 30}, calendar.TimeOfDay{Hour: 24}, time.Saturday, time.Sunday),
	}
	// The window covers both 2026 clock changes and Christmas.
	first := at(t, "Thu 2026-01-01 00:00:00 GMT")
	window := int64(365 * 24 * 60)
	rng := rand.New(rand.NewPCG(8, 6))
	for range 150 {
		start := first.Add(time.Duration(rng.Int64N(window)) * time.Minute)
		limit := time.Duration(1+rng.Int64N(3*24*60)) * time.Minute
		oh := hourSets[rng.IntN(len(hourSets))]
		due := calendar.AddOpeningHours(start, limit, oh, bankHolidays)
		if got := openMinutes(start, due, oh, bankHolidays); got != limit {
			t.Errorf("AddOpeningHours(%s, %v, %s) = %s, which holds %v of open time",
				start.Format(stamp), limit, oh.Text, due.Format(stamp), got)
		}
	}
}

// openMinutes counts the minutes from start (on a whole minute) up to end
// whose London wall time falls inside oh on an open day.
func openMinutes(start, end time.Time, oh calendar.OpeningHours, hol calendar.Holidays) time.Duration {
	open := oh.Open.Hour*60 + oh.Open.Minute
	closing := oh.Close.Hour*60 + oh.Close.Minute
	var total time.Duration
	for m := start; m.Before(end); m = m.Add(time.Minute) {
		local := m.In(calendar.London)
		minute := local.Hour()*60 + local.Minute()
		day := calendar.DateOf(local)
		if oh.Days[local.Weekday()] && !hol[day] && minute >= open && minute < closing {
			total += time.Minute
		}
	}
	return total
}

func TestNextOpen(t *testing.T) {
	hours, err := calendar.ParseOpeningHours("Mon-Fri 06:30-18:00")
	if err != nil {
		t.Fatal(err)
	}
	london := func(day, hour, minute int) time.Time {
		return time.Date(2026, time.November, day, hour, minute, 0, 0, calendar.London)
	}
	for _, c := range []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"before opening waits for it", london(23, 2, 0), london(23, 6, 30)},
		{"inside the hours is now", london(23, 9, 15), london(23, 9, 15)},
		{"after closing waits for the next day", london(23, 19, 0), london(24, 6, 30)},
		{"the weekend waits for Monday", london(21, 10, 0), london(23, 6, 30)},
	} {
		got, ok := calendar.NextOpen(c.at, hours, nil)
		if !ok || !got.Equal(c.want) {
			t.Errorf("%s: NextOpen(%v) = %v, %v; want %v", c.name, c.at, got, ok, c.want)
		}
	}
	never := calendar.OpeningHours{}
	if _, ok := calendar.NextOpen(london(23, 9, 0), never, nil); ok {
		t.Error("hours open on no day gave an opening")
	}
}

package calendar_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

const exampleLayout = "Mon 2006-01-02 15:04 MST"

// A Red triage runs on the clock: PPN received at 23:00 on a Saturday, RAG due
// four real hours later, even on the night the clocks go back.
func ExampleAddClock() {
	received := time.Date(2026, time.October, 24, 23, 0, 0, 0, calendar.London)
	fmt.Println(calendar.AddClock(received, 4*time.Hour).Format(exampleLayout))
	// Output: Sun 2026-10-25 02:00 GMT
}

// An Amber triage gets 24 hours of MASH opening time; a referral that lands
// on Friday evening starts counting on Monday morning.
func ExampleAddOpeningHours() {
	mash := calendar.OpeningHours{
		Open:  calendar.TimeOfDay{Hour: 9},
		Close: calendar.TimeOfDay{Hour: 17},
		Text:  "Mon-Fri 09:00-17:00",
	}
	for d := time.Monday; d <= time.Friday; d++ {
		mash.Days[d] = true
	}
	received := time.Date(2026, time.June, 12, 19, 0, 0, 0, calendar.London)
	fmt.Println(calendar.AddOpeningHours(received, 24*time.Hour, mash, nil).Format(exampleLayout))
	// Output: Wed 2026-06-17 17:00 BST
}

// Rule R3: a referral accepted on Monday with a bank holiday on Tuesday is due
// by the end of Wednesday.
func ExampleEndOfWorkingDay() {
	accepted := time.Date(2026, time.June, 1, 10, 0, 0, 0, calendar.London)
	bankHolidays := calendar.Holidays{{Year: 2026, Month: time.June, Day: 2}: true}
	due := calendar.EndOfWorkingDay(accepted, 1, bankHolidays)
	fmt.Println(due.Format("Mon 2006-01-02 15:04:05.999999999 MST"))
	// Output: Wed 2026-06-03 23:59:59.999999999 BST
}

// Rule R8: an incident on Friday evening is due at the school before it opens
// on Monday. Once the calendar's terms run out, the caller falls back to a
// working-day deadline.
func ExampleNextSchoolDayStart() {
	school := calendar.SchoolCalendar{
		ID:       "example-primary",
		Terms:    []calendar.Term{{Start: calendar.Date{Year: 2026, Month: time.September, Day: 3}, End: calendar.Date{Year: 2026, Month: time.October, Day: 23}}},
		DayStart: calendar.TimeOfDay{Hour: 8, Minute: 30},
	}
	incident := time.Date(2026, time.September, 11, 19, 0, 0, 0, calendar.London)
	due, err := calendar.NextSchoolDayStart(incident, school)
	fmt.Println(due.Format(exampleLayout), err)

	afterTerm := time.Date(2026, time.October, 23, 19, 0, 0, 0, calendar.London)
	if _, err := calendar.NextSchoolDayStart(afterTerm, school); errors.Is(err, calendar.ErrNoSchoolDay) {
		fmt.Println(calendar.EndOfWorkingDay(afterTerm, 1, nil).Format(exampleLayout), "(calendar out of date)")
	}
	// Output:
	// Mon 2026-09-14 08:30 BST <nil>
	// Mon 2026-10-26 23:59 GMT (calendar out of date)
}

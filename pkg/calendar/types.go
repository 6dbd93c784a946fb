// Package calendar computes Lantern's deadlines on the four calendars of the
// routing policy: wall-clock hours, MASH opening hours, working days and each
// school's own open days. Every calculation happens in Europe/London, so a
// deadline stays right across the clock changes.
package calendar

import (
	// The zone database is embedded so that Europe/London is right on any
	// machine, whatever its operating system ships.
	_ "time/tzdata"

	"fmt"
	"time"
)

// Kind names one of the calendars a deadline runs on. The values are the
// ones carried in notification.requested's `calendar` field.
type Kind string

// The calendars of domain.md section 8.1.
const (
	Clock      Kind = "clock"
	MASHHours  Kind = "mash_hours"
	WorkingDay Kind = "working_day"
	SchoolDay  Kind = "school_day"
)

// Date is a civil date with no time zone, as written in reference data
// ("2026-09-03").
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a YYYY-MM-DD date and refuses impossible ones such as
// 2026-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not a valid YYYY-MM-DD date", s)
	}
	return DateOf(t), nil
}

// DateOf returns the civil date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// In returns midnight at the start of the date in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns the date n days later (or earlier for negative n).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// YearsSince returns the whole years from born to d: a person's age on d.
// Someone born on 29 February turns a year older on 1 March in other
// years, as in English law.
func (d Date) YearsSince(born Date) int {
	years := d.Year - born.Year
	if d.Month < born.Month || (d.Month == born.Month && d.Day < born.Day) {
		years--
	}
	return years
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.In(time.UTC).Weekday() }

// TimeOfDay is a wall-clock time such as a school's 08:30 start.
type TimeOfDay struct {
	Hour, Minute int
}

// ParseTimeOfDay reads HH:MM in 24-hour form.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return TimeOfDay{}, fmt.Errorf("time %q is not a valid HH:MM time", s)
	}
	return TimeOfDay{Hour: t.Hour(), Minute: t.Minute()}, nil
}

// String formats the time as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// On returns the instant at this wall-clock time on date d in loc. On the
// rare wall times that a clock change skips, Go's normalisation moves the
// instant forward, which is the safe direction for a deadline.
func (t TimeOfDay) On(d Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, t.Hour, t.Minute, 0, 0, loc)
}

// London is Europe/London, the zone every Lantern deadline is computed in.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("calendar: time zone %s is missing: %v", name, err))
	}
	return loc
}

// OpeningHours are a service's weekly opening hours, such as a MASH open
// "Mon-Fri 09:00-17:00". Bank holidays are closed unless a deadline rule
// says otherwise.
type OpeningHours struct {
	// Days holds the weekdays the service opens on.
	Days [7]bool
	// Open and Close bound each open day; Close is after Open.
	Open, Close TimeOfDay
	// Text is the form the hours were written in, kept for messages.
	Text string
}

// Holidays is a set of bank holiday dates (England and Wales).
type Holidays map[Date]bool

// Term is one school term, first and last open days inclusive.
type Term struct {
	Start, End Date
}

// SchoolCalendar is one school's year: its terms, the closure days inside
// them (INSET days and the like) and the time its day starts.
type SchoolCalendar struct {
	ID       string
	Terms    []Term
	Closed   map[Date]bool
	DayStart TimeOfDay
}

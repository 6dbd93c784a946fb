package calendar

import (
	"errors"
	"fmt"
	"time"
)

// ErrNoSchoolDay reports that a school calendar has no open day after an
// incident, usually because its last published term has ended. Callers fall
// back to a working-day deadline and flag the calendar as out of date.
var ErrNoSchoolDay = errors.New("school calendar has no open day after the incident")

// openingHoursScanDays bounds the days AddOpeningHours walks through. Real
// limits are a few days of opening hours; the bound only stops malformed
// reference data (a holiday on every day, say) from stalling a service.
const openingHoursScanDays = 3653

// AddClock returns the CLOCK deadline d after start, in London time.
//
// The limit is elapsed real time, not a distance on the clock face: four
// hours from 00:30 on the night the clocks go forward ends at 05:30 BST,
// because four hours of a child's exposure are four hours whatever the clocks
// say. A negative d counts as zero, so a deadline never precedes its start.
func AddClock(start time.Time, d time.Duration) time.Time {
	return start.Add(max(d, 0)).In(London)
}

// AddOpeningHours returns the MASH_HOURS deadline: the earliest instant by
// which d of time inside oh has passed since start, in London time. Only open
// weekdays that are not in hol count, and a start outside the hours begins
// counting at the next opening.
//
// Each open day runs from Open to Close on that date, measured in real time;
// a Close of 24:00 (TimeOfDay{24, 0}) means the following midnight, so a 24×7
// service counts the 23- and 25-hour days of the clock changes as they are.
// When the time runs out exactly at a close, the deadline is that close, not
// the next opening. A d of zero or less returns start.
//
// Hours that make no sense (no open weekday, or not 00:00 <= Open < Close <=
// 24:00) must not hold back a safeguarding deadline, so they count as 24×7,
// like AddClock. The same fallback applies to any time still left after ten
// years of days, which only reference data closing every day could cause.
func AddOpeningHours(start time.Time, d time.Duration, oh OpeningHours, hol Holidays) time.Time {
	start = start.In(London)
	if d <= 0 {
		return start
	}
	if !hoursEverOpen(oh) {
		return AddClock(start, d)
	}
	remaining := d
	cursor := start
	date := DateOf(start)
	for range openingHoursScanDays {
		open, closing, ok := openSpan(date, oh, hol)
		date = date.AddDays(1)
		if !ok || !closing.After(cursor) {
			continue
		}
		from := latest(open, cursor)
		available := closing.Sub(from)
		if remaining <= available {
			return from.Add(remaining)
		}
		remaining -= available
		cursor = closing
	}
	return AddClock(latest(cursor, date.In(London)), remaining)
}

// hoursEverOpen reports whether oh opens for some time in a normal week,
// within each open day.
func hoursEverOpen(oh OpeningHours) bool {
	open, closing := minutesOfDay(oh.Open), minutesOfDay(oh.Close)
	if open < 0 || closing <= open || closing > 24*60 {
		return false
	}
	for _, opens := range oh.Days {
		if opens {
			return true
		}
	}
	return false
}

func minutesOfDay(t TimeOfDay) int { return t.Hour*60 + t.Minute }

// openSpan returns the instants at which the service opens and closes on
// date, and false when it stays shut all day: a closed weekday, a bank
// holiday, or hours that a clock change squeezes to nothing.
func openSpan(date Date, oh OpeningHours, hol Holidays) (open, closing time.Time, ok bool) {
	if !oh.Days[date.Weekday()] || hol[date] {
		return time.Time{}, time.Time{}, false
	}
	open = oh.Open.On(date, London)
	closing = oh.Close.On(date, London)
	return open, closing, closing.After(open)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// EndOfWorkingDay returns the WORKING_DAY deadline "within n working days"
// of a receipt at start: the end of the nth working day after the receipt
// day, which is day 0. A working day is Monday to Friday and not in hol.
//
// The end of a day is the last instant before the next local midnight
// (23:59:59.999999999), so work done at any time that day is on time.
//
// A receipt on a weekend or bank holiday is still day 0, and day 1 is the
// next working day: with n = 1, a referral received on Saturday is due at the
// end of Monday, the same as one received on Friday evening. For n = 0 ("the
// same working day") the deadline is the end of the receipt day when that is a
// working day, and otherwise the end of the next working day. A negative n
// counts as zero.
func EndOfWorkingDay(start time.Time, n int, hol Holidays) time.Time {
	day := DateOf(start.In(London))
	if n <= 0 {
		for !isWorkingDay(day, hol) {
			day = day.AddDays(1)
		}
		return endOfDay(day)
	}
	for counted := 0; counted < n; {
		day = day.AddDays(1)
		if isWorkingDay(day, hol) {
			counted++
		}
	}
	return endOfDay(day)
}

func isWorkingDay(d Date, hol Holidays) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !hol[d]
}

// endOfDay returns the last instant of d in London, whatever the length of
// the day.
func endOfDay(d Date) time.Time {
	return d.AddDays(1).In(London).Add(-time.Nanosecond)
}

// NextSchoolDayStart returns the SCHOOL_DAY deadline for an incident: the
// setting's DayStart on the first day it is open to pupils, taking the first
// such start strictly after the incident instant, in London time. An open day
// is a Monday to Friday inside one of sc.Terms and not in sc.Closed.
//
// The start of the incident's own day counts when it is still to come: an
// incident at 06:00 on a school day is due at 08:30 that morning, because the
// child walks into school then, and Operation Encompass asks that the school
// knows before the next school day begins. An incident at or after the day's
// start is due at the start of the next open day.
//
// It returns an error wrapping ErrNoSchoolDay when no open day follows the
// incident within the calendar's terms. Bank holidays count as open unless
// the calendar lists them as closed; NextSchoolDayStartWithHolidays also
// closes them.
func NextSchoolDayStart(incident time.Time, sc SchoolCalendar) (time.Time, error) {
	return NextSchoolDayStartWithHolidays(incident, sc, nil)
}

// NextSchoolDayStartWithHolidays is NextSchoolDayStart with every date in hol
// also treated as closed, for calendars that leave bank holidays inside a
// term unmarked.
func NextSchoolDayStartWithHolidays(incident time.Time, sc SchoolCalendar, hol Holidays) (time.Time, error) {
	incident = incident.In(London)
	day := DateOf(incident)
	for {
		if !inAnyTerm(day, sc.Terms) {
			next, ok := nextTermStart(day, sc.Terms)
			if !ok {
				return time.Time{}, fmt.Errorf("finding the next school day of calendar %q after %s: %w",
					sc.ID, incident.Format(time.RFC3339), ErrNoSchoolDay)
			}
			day = next
		}
		if schoolOpenOn(day, sc, hol) {
			if start := sc.DayStart.On(day, London); start.After(incident) {
				return start, nil
			}
		}
		day = day.AddDays(1)
	}
}

// schoolOpenOn reports whether a day inside a term is open to pupils.
func schoolOpenOn(d Date, sc SchoolCalendar, hol Holidays) bool {
	return isWorkingDay(d, hol) && !sc.Closed[d]
}

func inAnyTerm(d Date, terms []Term) bool {
	for _, t := range terms {
		if !d.Before(t.Start) && !t.End.Before(d) {
			return true
		}
	}
	return false
}

// nextTermStart returns the earliest term start after d, if any. Terms need
// not be sorted, since reference files are written by hand.
func nextTermStart(d Date, terms []Term) (Date, bool) {
	var next Date
	found := false
	for _, t := range terms {
		if d.Before(t.Start) && !t.End.Before(t.Start) && (!found || t.Start.Before(next)) {
			next, found = t.Start, true
		}
	}
	return next, found
}

// NextOpen returns the earliest instant at or after t at which oh is open,
// looking up to a fortnight ahead, and false if oh opens on none of those
// days. Outbound delivery uses it to hold a prompt that is not urgent until
// the hours an organisation asks to be prompted in.
func NextOpen(t time.Time, oh OpeningHours, hol Holidays) (time.Time, bool) {
	day := DateOf(t.In(London))
	for range 15 {
		open, closing, ok := openSpan(day, oh, hol)
		if ok && t.Before(closing) {
			return latest(open, t), true
		}
		day = day.AddDays(1)
	}
	return time.Time{}, false
}

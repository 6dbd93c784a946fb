package routing

import (
	"errors"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
)

// due is a computed deadline: when, on which calendar, and any flag the
// computation raised (a school calendar that ran out).
type due struct {
	At       time.Time
	Calendar calendar.Kind
	Flags    []string
}

// calendars holds what deadlines are computed with: the bank holidays and
// the MASH's opening hours of the incident's local authority.
type calendars struct {
	holidays  calendar.Holidays
	mashHours calendar.OpeningHours
}

// after returns the deadline d from start. A school_day deadline needs a
// setting's calendar and goes through schoolDay instead.
func (c calendars) after(d policy.Deadline, start time.Time) due {
	out := due{Calendar: d.Calendar}
	switch d.Calendar {
	case calendar.Clock:
		out.At = calendar.AddClock(start, d.Limit)
	case calendar.MASHHours:
		out.At = calendar.AddOpeningHours(start, d.Limit, c.mashHours, c.holidays)
	default:
		out.Calendar = calendar.WorkingDay
		out.At = calendar.EndOfWorkingDay(start, d.Days, c.holidays)
	}
	return out
}

// schoolDay returns the start of the setting's next open day after the
// incident, or, when its calendar has none (its published terms have run
// out), the fallback deadline with a flag asking for the calendar to be
// brought up to date.
func (c calendars) schoolDay(incident time.Time, sc calendar.SchoolCalendar, fallback policy.Deadline) due {
	at, err := calendar.NextSchoolDayStartWithHolidays(incident, sc, c.holidays)
	if err == nil {
		return due{At: at.In(calendar.London), Calendar: calendar.SchoolDay}
	}
	out := c.after(fallback, incident)
	if errors.Is(err, calendar.ErrNoSchoolDay) {
		out.Flags = append(out.Flags, FlagSchoolCalendarFallback)
	}
	return out
}

// sendBy is R8's send-by time: the policy's time of day on the due day,
// but never later than the deadline itself nor than sendWithin after the
// incident, and never before the incident. The last bound settles an
// incident between the send-by time and the school's start: a notice can
// only be sent after the incident, so it is due to go at once.
func sendBy(incident time.Time, d due, at calendar.TimeOfDay, within time.Duration) time.Time {
	s := at.On(calendar.DateOf(d.At.In(calendar.London)), calendar.London)
	if s.After(d.At) {
		s = d.At
	}
	if limit := incident.Add(within); s.After(limit) {
		s = limit
	}
	if s.Before(incident) {
		s = incident
	}
	return s.In(calendar.London)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

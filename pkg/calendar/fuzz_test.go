package calendar_test

import (
	"errors"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// fuzzInput is one case of raw numbers, which fixture.decode turns into
// valid arguments: the fuzzer explores numbers, the invariants speak of
// deadlines.
type fuzzInput struct {
	startOffset, laterBy, minutes               int64
	days, openQuarter, lenQuarters, workingDays uint8
}

// decoded holds the deadline arguments that one fuzzInput stands for.
type decoded struct {
	start, later time.Time
	limit        time.Duration
	hours        calendar.OpeningHours
	everOpen     bool
	workingDays  int
}

// fuzzBase and fuzzSpan bound the starts to the six years 2025 to 2030,
// which hold twelve clock changes, a 29 February and the fixture's terms.
var (
	fuzzBase = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	fuzzSpan = int64(time.Date(2031, time.January, 1, 0, 0, 0, 0, time.UTC).Sub(fuzzBase) / time.Second)
)

func floorMod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

// decode keeps limits under a week and every open day at least an hour long,
// so a deadline always lands well inside AddOpeningHours' scan limit.
func (in fuzzInput) decode() decoded {
	start := fuzzBase.Add(time.Duration(floorMod(in.startOffset, fuzzSpan)) * time.Second).In(calendar.London)
	later := start.Add(time.Duration(floorMod(in.laterBy, 30*24*60*60)) * time.Second)
	open := int(in.openQuarter) % 93
	closing := open + 4 + int(in.lenQuarters)%(93-open)
	oh := calendar.OpeningHours{
		Open:  calendar.TimeOfDay{Hour: open / 4, Minute: open % 4 * 15},
		Close: calendar.TimeOfDay{Hour: closing / 4, Minute: closing % 4 * 15},
		Text:  "fuzzed",
	}
	for d := range oh.Days {
		oh.Days[d] = in.days&(1<<d) != 0
	}
	return decoded{
		start:       start,
		later:       later,
		limit:       time.Duration(in.minutes%(7*24*60)) * time.Minute,
		hours:       oh,
		everOpen:    in.days&0x7f != 0,
		workingDays: int(in.workingDays)%64 - 4,
	}
}

// fixture is the fixed reference data that every fuzzed case runs against.
type fixture struct {
	hol    calendar.Holidays
	school calendar.SchoolCalendar
}

// newFixture builds bank holidays and a school calendar of five terms a
// year, with an INSET day on the first day of each autumn term.
func newFixture(t testing.TB) fixture {
	t.Helper()
	sc := schoolYear(t, "fuzz", calendar.TimeOfDay{Hour: 8, Minute: 40}, nil)
	for y := 2025; y <= 2030; y++ {
		sc.Closed[ymd(y, time.September, 3)] = true
		sc.Terms = append(sc.Terms,
			calendar.Term{Start: ymd(y, time.September, 3), End: ymd(y, time.October, 23)},
			calendar.Term{Start: ymd(y, time.November, 2), End: ymd(y, time.December, 18)},
			calendar.Term{Start: ymd(y+1, time.January, 5), End: ymd(y+1, time.February, 12)},
			calendar.Term{Start: ymd(y+1, time.February, 22), End: ymd(y+1, time.March, 27)},
			calendar.Term{Start: ymd(y+1, time.April, 13), End: ymd(y+1, time.July, 21)},
		)
	}
	return fixture{hol: englandAndWales(t), school: sc}
}

func ymd(y int, m time.Month, d int) calendar.Date {
	return calendar.Date{Year: y, Month: m, Day: d}
}

func FuzzDeadlines(f *testing.F) {
	f.Add(int64(39054600), int64(3600), int64(240), uint8(0x7f), uint8(0), uint8(255), uint8(5))   // 00:30 as the clocks go forward
	f.Add(int64(57195000), int64(7200), int64(240), uint8(0x3e), uint8(36), uint8(28), uint8(5))   // 00:30 BST as the clocks go back
	f.Add(int64(99791940), int64(60), int64(60), uint8(0x3e), uint8(36), uint8(28), uint8(5))      // 23:59 on 29 February 2028
	f.Add(int64(45698400), int64(0), int64(240), uint8(0x3e), uint8(36), uint8(28), uint8(4))      // example 3, Saturday 23:00
	f.Add(int64(57088800), int64(86400), int64(1440), uint8(0x3e), uint8(36), uint8(28), uint8(6)) // last Friday of term
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, startOffset, laterBy, minutes int64, days, openQuarter, lenQuarters, workingDays uint8) {
		checkInvariants(t, fx, fuzzInput{startOffset, laterBy, minutes, days, openQuarter, lenQuarters, workingDays})
	})
}

// checkInvariants checks what must hold for any start: no deadline precedes
// its start, a later start never gives an earlier deadline, and each deadline
// lands where its calendar allows.
func checkInvariants(t *testing.T, fx fixture, in fuzzInput) {
	t.Helper()
	c := in.decode()
	checkClock(t, c)
	checkOpeningHours(t, c, fx.hol)
	checkWorkingDay(t, c, fx.hol)
	checkSchoolDay(t, c, fx)
}

func checkClock(t *testing.T, c decoded) {
	t.Helper()
	due := calendar.AddClock(c.start, c.limit)
	if due.Location() != calendar.London {
		t.Errorf("AddClock(%s, %v) is in %v, want London", c.start.Format(stamp), c.limit, due.Location())
	}
	if want := max(c.limit, 0); due.Sub(c.start) != want {
		t.Errorf("AddClock(%s, %v) = %s, %v after the start, want %v", c.start.Format(stamp), c.limit, due.Format(stamp), due.Sub(c.start), want)
	}
	checkOrder(t, "AddClock", c, due, calendar.AddClock(c.later, c.limit))
}

func checkOpeningHours(t *testing.T, c decoded, hol calendar.Holidays) {
	t.Helper()
	due := calendar.AddOpeningHours(c.start, c.limit, c.hours, hol)
	checkOrder(t, "AddOpeningHours", c, due, calendar.AddOpeningHours(c.later, c.limit, c.hours, hol))
	if clock := calendar.AddClock(c.start, c.limit); due.Before(clock) {
		t.Errorf("AddOpeningHours(%s, %v) = %s, before the clock deadline %s", c.start.Format(stamp), c.limit, due.Format(stamp), clock.Format(stamp))
	}
	if c.limit <= 0 && !due.Equal(c.start) {
		t.Errorf("AddOpeningHours(%s, %v) = %s, want the start", c.start.Format(stamp), c.limit, due.Format(stamp))
	}
	if c.limit > 0 && c.everOpen && !withinOpening(due, c.hours, hol) {
		t.Errorf("AddOpeningHours(%s, %v, %v-%v %v) = %s, outside the opening hours",
			c.start.Format(stamp), c.limit, c.hours.Open, c.hours.Close, c.hours.Days, due.Format(stamp))
	}
}

// withinOpening reports whether t lies after an opening and no later than
// the matching close. A close at 24:00 falls on the next date, so the day
// before is checked too.
func withinOpening(t time.Time, oh calendar.OpeningHours, hol calendar.Holidays) bool {
	day := calendar.DateOf(t.In(calendar.London))
	for _, d := range []calendar.Date{day, day.AddDays(-1)} {
		if !oh.Days[d.Weekday()] || hol[d] {
			continue
		}
		open, closing := oh.Open.On(d, calendar.London), oh.Close.On(d, calendar.London)
		if t.After(open) && !t.After(closing) {
			return true
		}
	}
	return false
}

func checkWorkingDay(t *testing.T, c decoded, hol calendar.Holidays) {
	t.Helper()
	due := calendar.EndOfWorkingDay(c.start, c.workingDays, hol)
	checkOrder(t, "EndOfWorkingDay", c, due, calendar.EndOfWorkingDay(c.later, c.workingDays, hol))
	next := due.Add(time.Nanosecond).In(calendar.London)
	if next.Hour() != 0 || next.Minute() != 0 || next.Second() != 0 || next.Nanosecond() != 0 {
		t.Errorf("EndOfWorkingDay(%s, %d) = %s, not the end of a day", c.start.Format(stamp), c.workingDays, due.Format(stamp))
	}
	receipt, dueDay := calendar.DateOf(c.start.In(calendar.London)), calendar.DateOf(due)
	counted := 0
	for d := receipt.AddDays(1); !dueDay.Before(d); d = d.AddDays(1) {
		if working(d, hol) {
			counted++
		}
	}
	want := max(c.workingDays, 1)
	if c.workingDays <= 0 && working(receipt, hol) {
		want = 0
	}
	if !working(dueDay, hol) || counted != want {
		t.Errorf("EndOfWorkingDay(%s, %d) = %s, %d working days after receipt, want %d",
			c.start.Format(stamp), c.workingDays, due.Format(stamp), counted, want)
	}
}

func working(d calendar.Date, hol calendar.Holidays) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday && !hol[d]
}

func checkSchoolDay(t *testing.T, c decoded, fx fixture) {
	t.Helper()
	due, err := calendar.NextSchoolDayStartWithHolidays(c.start, fx.school, fx.hol)
	dueLater, errLater := calendar.NextSchoolDayStartWithHolidays(c.later, fx.school, fx.hol)
	if err != nil {
		if !errors.Is(err, calendar.ErrNoSchoolDay) {
			t.Errorf("NextSchoolDayStartWithHolidays(%s) error = %v, want ErrNoSchoolDay", c.start.Format(stamp), err)
		}
		if errLater == nil {
			t.Errorf("NextSchoolDayStartWithHolidays found %s after %s but nothing after the earlier %s",
				dueLater.Format(stamp), c.later.Format(stamp), c.start.Format(stamp))
		}
		return
	}
	if !due.After(c.start) {
		t.Errorf("NextSchoolDayStartWithHolidays(%s) = %s, not after the incident", c.start.Format(stamp), due.Format(stamp))
	}
	if errLater == nil {
		checkOrder(t, "NextSchoolDayStartWithHolidays", c, due, dueLater)
	}
	dueDay := calendar.DateOf(due)
	if !schoolOpen(dueDay, fx) || !fx.school.DayStart.On(dueDay, calendar.London).Equal(due) {
		t.Errorf("NextSchoolDayStartWithHolidays(%s) = %s, not the start of an open day", c.start.Format(stamp), due.Format(stamp))
	}
	for d := calendar.DateOf(c.start.In(calendar.London)); d.Before(dueDay); d = d.AddDays(1) {
		if schoolOpen(d, fx) && fx.school.DayStart.On(d, calendar.London).After(c.start) {
			t.Errorf("NextSchoolDayStartWithHolidays(%s) = %s, but %s is an earlier open day", c.start.Format(stamp), due.Format(stamp), d)
		}
	}
}

func schoolOpen(d calendar.Date, fx fixture) bool {
	if !working(d, fx.hol) || fx.school.Closed[d] {
		return false
	}
	for _, term := range fx.school.Terms {
		if !d.Before(term.Start) && !term.End.Before(d) {
			return true
		}
	}
	return false
}

// checkOrder checks that due is not before the start, and that the deadline
// for the later start is not before it.
func checkOrder(t *testing.T, name string, c decoded, due, dueLater time.Time) {
	t.Helper()
	if due.Before(c.start) {
		t.Errorf("%s(%s) = %s, before its start", name, c.start.Format(stamp), due.Format(stamp))
	}
	if dueLater.Before(due) {
		t.Errorf("%s: start %s gives %s, but the later start %s gives the earlier %s",
			name, c.start.Format(stamp), due.Format(stamp), c.later.Format(stamp), dueLater.Format(stamp))
	}
}

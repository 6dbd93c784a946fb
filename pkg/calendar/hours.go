package calendar

import (
	"fmt"
	"strings"
	"time"
)

// dayNamesInWeekOrder maps the three-letter day names of opening hours to
// weekdays, in the order a week is written in (Monday first).
var dayNamesInWeekOrder = []struct {
	name string
	day  time.Weekday
}{
	{"mon", time.Monday}, {"tue", time.Tuesday}, {"wed", time.Wednesday},
	{"thu", time.Thursday}, {"fri", time.Friday}, {"sat", time.Saturday},
	{"sun", time.Sunday},
}

// closingAtMidnight is the closing time "24:00": midnight at the end of the day. It
// lets a service that never closes be written "Mon-Sun 00:00-24:00", and
// TimeOfDay.On turns it into midnight at the start of the next day.
var closingAtMidnight = TimeOfDay{Hour: 24}

// ParseOpeningHours reads weekly opening hours written as days, a space and
// a time range: "Mon-Fri 09:00-17:00", "Mon,Wed,Fri 09:00-13:00" or
// "Mon-Sun 00:00-24:00" for a service open all day, every day.
//
// Days are the English three-letter names, in any letter case, given singly
// or as ranges that run forwards from Monday to Sunday ("Sat-Sun", never
// "Fri-Mon"), joined by commas; no day may be named twice. Times are 24-hour
// HH:MM. The closing time may be 24:00, the end of the day, and must be later
// than the opening time. Days is indexed by time.Weekday.
func ParseOpeningHours(s string) (OpeningHours, error) {
	text := strings.TrimSpace(s)
	parts := strings.Fields(text)
	if len(parts) != 2 {
		return OpeningHours{}, openingHoursError(s, `want days then times, like "Mon-Fri 09:00-17:00"`)
	}
	days, err := parseOpeningDays(parts[0])
	if err != nil {
		return OpeningHours{}, openingHoursError(s, err.Error())
	}
	open, closing, err := parseOpeningTimes(parts[1])
	if err != nil {
		return OpeningHours{}, openingHoursError(s, err.Error())
	}
	return OpeningHours{Days: days, Open: open, Close: closing, Text: text}, nil
}

func openingHoursError(s, reason string) error {
	return fmt.Errorf("opening hours %q: %s", s, reason)
}

// parseOpeningDays reads a comma-separated list of days and day ranges.
func parseOpeningDays(s string) ([7]bool, error) {
	var days [7]bool
	for item := range strings.SplitSeq(s, ",") {
		first, last, err := parseOpeningDayRange(item)
		if err != nil {
			return days, err
		}
		for i := first; i <= last; i++ {
			day := dayNamesInWeekOrder[i].day
			if days[day] {
				return days, fmt.Errorf("%s is named more than once", day)
			}
			days[day] = true
		}
	}
	return days, nil
}

// parseOpeningDayRange reads "Mon" or "Mon-Fri" and returns the positions of
// its first and last days in dayNamesInWeekOrder.
func parseOpeningDayRange(item string) (first, last int, err error) {
	from, to, isRange := strings.Cut(item, "-")
	if first, err = openingDayPosition(from); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return first, first, nil
	}
	if last, err = openingDayPosition(to); err != nil {
		return 0, 0, err
	}
	if last < first {
		return 0, 0, fmt.Errorf("day range %q runs backwards; ranges run from Mon to Sun", item)
	}
	return first, last, nil
}

func openingDayPosition(name string) (int, error) {
	for i, d := range dayNamesInWeekOrder {
		if strings.EqualFold(name, d.name) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("day %q is not one of Mon, Tue, Wed, Thu, Fri, Sat, Sun", name)
}

// parseOpeningTimes reads "09:00-17:00".
func parseOpeningTimes(s string) (open, closing TimeOfDay, err error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return open, closing, fmt.Errorf("times %q are not HH:MM-HH:MM", s)
	}
	if open, err = ParseTimeOfDay(from); err != nil {
		return open, closing, fmt.Errorf("opening %w", err)
	}
	if to == closingAtMidnight.String() {
		closing = closingAtMidnight
	} else if closing, err = ParseTimeOfDay(to); err != nil {
		return open, closing, fmt.Errorf("closing %w", err)
	}
	if openingMinutes(closing) <= openingMinutes(open) {
		return open, closing, fmt.Errorf("closing time %s is not after opening time %s", closing, open)
	}
	return open, closing, nil
}

func openingMinutes(t TimeOfDay) int { return t.Hour*60 + t.Minute }

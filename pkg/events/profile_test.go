package events_test

import (
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

func TestAgeYearsCountsLondonBirthdays(t *testing.T) {
	for _, c := range []struct {
		name   string
		dob    string
		at     time.Time
		want   int
		wantOK bool
	}{
		{"the day before the fifth birthday", "2021-06-10", time.Date(2026, 6, 9, 12, 0, 0, 0, calendar.London), 4, true},
		{"on the fifth birthday", "2021-06-10", time.Date(2026, 6, 10, 0, 0, 0, 0, calendar.London), 5, true},
		// 23:30 UTC on 9 June is already 10 June in London (BST).
		{"a London birthday that is still yesterday in UTC", "2021-06-10", time.Date(2026, 6, 9, 23, 30, 0, 0, time.UTC), 5, true},
		{"a leap-day birthday in a common year", "2020-02-29", time.Date(2025, 2, 28, 12, 0, 0, 0, calendar.London), 4, true},
		{"a newborn", "2026-06-01", time.Date(2026, 6, 1, 9, 0, 0, 0, calendar.London), 0, true},
		{"an unreadable date", "01/06/2020", time.Date(2026, 6, 1, 9, 0, 0, 0, calendar.London), 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := events.AgeYears(c.dob, c.at)
			if got != c.want || ok != c.wantOK {
				t.Errorf("AgeYears(%s, %s) = %d, %v; want %d, %v", c.dob, c.at, got, ok, c.want, c.wantOK)
			}
		})
	}
}

func TestProfilesAreTheContractsFive(t *testing.T) {
	for _, p := range []events.Profile{"A", "B", "B_minimal", "C", "D"} {
		if !p.Valid() {
			t.Errorf("%s is not valid", p)
		}
	}
	if events.Profile("E").Valid() {
		t.Error("E is valid")
	}
}

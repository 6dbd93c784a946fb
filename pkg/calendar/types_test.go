package calendar_test

import (
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

func TestYearsSinceCountsWholeYears(t *testing.T) {
	t.Parallel()
	cases := []struct {
		born, on string
		want     int
	}{
		{"2015-06-15", "2026-06-14", 10},
		{"2015-06-15", "2026-06-15", 11},
		{"2015-12-31", "2026-01-01", 10},
		{"2008-02-29", "2026-02-28", 17},
		{"2008-02-29", "2026-03-01", 18},
		{"2008-02-29", "2028-02-29", 20},
		{"2026-06-15", "2026-06-15", 0},
	}
	for _, c := range cases {
		born, err := calendar.ParseDate(c.born)
		if err != nil {
			t.Fatal(err)
		}
		on, err := calendar.ParseDate(c.on)
		if err != nil {
			t.Fatal(err)
		}
		if got := on.YearsSince(born); got != c.want {
			t.Errorf("%s.YearsSince(%s) = %d, want %d", c.on, c.born, got, c.want)
		}
	}
}

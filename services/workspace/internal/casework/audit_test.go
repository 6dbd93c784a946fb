package casework_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
)

func date(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParsePeriod(t *testing.T) {
	// 23:30 UTC on 31 March 2026 is already 1 April in London (BST).
	now := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	cases := []struct {
		name, from, to string
		want           casework.Period
		wantFields     []string
	}{
		{"no dates is the current month in London", "", "", casework.Period{From: date(t, "2026-04-01"), To: date(t, "2026-04-30")}, nil},
		{"one month", "2026-11-01", "2026-11-30", casework.Period{From: date(t, "2026-11-01"), To: date(t, "2026-11-30")}, nil},
		{"one day", "2026-11-05", "2026-11-05", casework.Period{From: date(t, "2026-11-05"), To: date(t, "2026-11-05")}, nil},
		{"a leap year's 366 days", "2028-01-01", "2028-12-31", casework.Period{From: date(t, "2028-01-01"), To: date(t, "2028-12-31")}, nil},
		{"367 days", "2028-01-01", "2029-01-01", casework.Period{}, []string{"/to"}},
		{"the last day first", "2026-11-30", "2026-11-01", casework.Period{}, []string{"/to"}},
		{"only the first day", "2026-11-01", "", casework.Period{}, []string{"/to"}},
		{"neither a date", "yesterday", "30/11/2026", casework.Period{}, []string{"/from", "/to"}},
		{"an impossible day", "2026-02-29", "2026-03-31", casework.Period{}, []string{"/from"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := casework.ParsePeriod(tc.from, tc.to, now)
			var fields []string
			var invalid *casework.InvalidError
			if errors.As(err, &invalid) {
				for _, f := range invalid.Fields {
					fields = append(fields, f.Pointer)
				}
			} else if err != nil {
				t.Fatalf("ParsePeriod() error = %v, want an *InvalidError", err)
			}
			if diff := cmp.Diff(tc.wantFields, fields); diff != "" {
				t.Errorf("fields in error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParsePeriod() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCurrentMonthEndsOnItsLastDay(t *testing.T) {
	cases := map[time.Time]casework.Period{
		time.Date(2028, 2, 10, 12, 0, 0, 0, time.UTC):   {From: date(t, "2028-02-01"), To: date(t, "2028-02-29")},
		time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC): {From: date(t, "2026-12-01"), To: date(t, "2026-12-31")},
		time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC): {From: date(t, "2026-10-01"), To: date(t, "2026-10-31")},
	}
	for now, want := range cases {
		if diff := cmp.Diff(want, casework.CurrentMonth(now)); diff != "" {
			t.Errorf("CurrentMonth(%s) (-want +got):\n%s", now, diff)
		}
	}
}

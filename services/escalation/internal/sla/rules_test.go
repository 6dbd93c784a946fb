package sla_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

func TestParseTriageLimits(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    map[string]sla.Limit
		wantErr bool
	}{
		{name: "default", in: sla.DefaultTriageLimits, want: map[string]sla.Limit{
			"red":   {Within: 4 * time.Hour, Calendar: calendar.Clock},
			"amber": {Within: 24 * time.Hour, Calendar: calendar.MASHHours},
			"green": {Within: 72 * time.Hour, Calendar: calendar.MASHHours},
		}},
		{name: "spaces and any order", in: " green=1h/clock , red=30m/clock,amber=2h/mash_hours", want: map[string]sla.Limit{
			"red":   {Within: 30 * time.Minute, Calendar: calendar.Clock},
			"amber": {Within: 2 * time.Hour, Calendar: calendar.MASHHours},
			"green": {Within: time.Hour, Calendar: calendar.Clock},
		}},
		{name: "missing rating", in: "red=4h/clock,amber=24h/mash_hours", wantErr: true},
		{name: "rating twice", in: "red=4h/clock,red=5h/clock,amber=24h/mash_hours,green=72h/mash_hours", wantErr: true},
		{name: "unknown rating", in: "blue=4h/clock,red=4h/clock,amber=24h/mash_hours,green=72h/mash_hours", wantErr: true},
		{name: "working days are not a duration calendar", in: "red=4h/clock,amber=24h/working_day,green=72h/mash_hours", wantErr: true},
		{name: "zero duration", in: "red=0s/clock,amber=24h/mash_hours,green=72h/mash_hours", wantErr: true},
		{name: "no calendar", in: "red=4h,amber=24h/mash_hours,green=72h/mash_hours", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sla.ParseTriageLimits(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseTriageLimits(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseTriageLimits(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseKinds(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    []events.RecipientKind
		wantErr bool
	}{
		{name: "two", in: "school, gp", want: []events.RecipientKind{events.KindSchool, events.KindGP}},
		{name: "empty list", in: "", want: nil},
		{name: "unknown kind", in: "school,police", wantErr: true},
		{name: "repeated kind", in: "school,school", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sla.ParseKinds(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseKinds(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); !tc.wantErr && diff != "" {
				t.Errorf("ParseKinds(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestAtRisk(t *testing.T) {
	rules := sla.DefaultRules()
	start := time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC)
	cases := []struct {
		name   string
		window time.Duration
		want   time.Duration // before the deadline
	}{
		{name: "long deadline: the full lead", window: 58 * time.Hour, want: time.Hour},
		{name: "four hours: a quarter is exactly the lead", window: 4 * time.Hour, want: time.Hour},
		{name: "one hour: a quarter of it", window: time.Hour, want: 15 * time.Minute},
		{name: "empty window: at risk when due", window: 0, want: 0},
		{name: "deadline before start: at risk when due", window: -time.Hour, want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			due := start.Add(tc.window)
			if got := due.Sub(rules.AtRisk(start, due)); got != tc.want {
				t.Errorf("AtRisk with a %v window is %v before the deadline, want %v", tc.window, got, tc.want)
			}
		})
	}
}

func TestTriageDue(t *testing.T) {
	rule := sla.DefaultRules().Triage
	weekdays, err := calendar.ParseOpeningHours("Mon-Fri 09:00-17:00")
	if err != nil {
		t.Fatal(err)
	}
	london := calendar.London
	cases := []struct {
		name     string
		rag      string
		received time.Time
		hours    calendar.OpeningHours
		want     time.Time
	}{
		{
			name: "red runs on the clock through the night the clocks go back",
			rag:  "red", received: time.Date(2026, 10, 25, 0, 30, 0, 0, london), hours: weekdays,
			// 00:30 BST is 23:30Z; four real hours later is 03:30 GMT.
			want: time.Date(2026, 10, 25, 3, 30, 0, 0, time.UTC),
		},
		{
			name: "amber counts 24 opening hours across the weekend and the clock change",
			rag:  "amber", received: time.Date(2026, 10, 23, 16, 0, 0, 0, london), hours: weekdays,
			// Friday 1h, Monday 8h, Tuesday 8h, then 7h into Wednesday.
			want: time.Date(2026, 10, 28, 16, 0, 0, 0, london),
		},
		{
			name: "green counts 72 opening hours",
			rag:  "green", received: time.Date(2026, 11, 23, 9, 0, 0, 0, london), hours: weekdays,
			// Nine eight-hour days from Monday 09:00: Thursday of the next week at 17:00.
			want: time.Date(2026, 12, 3, 17, 0, 0, 0, london),
		},
		{
			name: "no proposal falls back to amber",
			rag:  "", received: time.Date(2026, 11, 23, 9, 0, 0, 0, london), hours: weekdays,
			want: time.Date(2026, 11, 25, 17, 0, 0, 0, london),
		},
		{
			name: "an unknown MASH counts as always open",
			rag:  "amber", received: time.Date(2026, 11, 21, 9, 0, 0, 0, london),
			want: time.Date(2026, 11, 22, 9, 0, 0, 0, london),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rule.TriageDue(tc.rag, tc.received, tc.hours, nil)
			if !got.Equal(tc.want) {
				t.Errorf("TriageDue(%q, %v) = %v, want %v", tc.rag, tc.received, got, tc.want)
			}
		})
	}
}

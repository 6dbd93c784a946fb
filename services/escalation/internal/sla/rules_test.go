package sla_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

func TestParseKinds(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    []events.RecipientKind
		wantErr bool
	}{
		{name: "two", in: "school, gp", want: []events.RecipientKind{events.KindSchool, events.KindGP}},
		{name: "empty list", in: "", want: nil},
		{name: "a declared kind", in: "school,youth_offending", want: []events.RecipientKind{events.KindSchool, "youth_offending"}},
		{name: "not a kind", in: "school,sg.>", wantErr: true},
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

package sla

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

func TestPlan(t *testing.T) {
	rules := DefaultRules()
	requested := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	due := requested.Add(24 * time.Hour)
	delivered := requested.Add(time.Minute)
	acked := requested.Add(time.Hour)
	triaged := requested.Add(2 * time.Hour)
	school := events.Recipient{Kind: events.KindSchool, ID: "118234"}
	// A MASH that reference data does not know counts as always open.
	mash := events.Recipient{Kind: events.KindMASH, ID: "E00000000"}
	base := facts{Requested: true, RequestedAt: requested, RuleID: "R1", DueAt: due}
	with := func(r events.Recipient, change func(*facts)) facts {
		f := base
		f.Recipient = r
		change(&f)
		return f
	}
	watch := func(name, rule string, start, due, done time.Time) step {
		return step{Name: name, RuleID: rule, StartsAt: start, AtRiskAt: rules.AtRisk(start, due), DueAt: due, DoneAt: done}
	}
	cases := []struct {
		name  string
		facts facts
		want  []step
	}{
		{name: "nothing planned before the request", facts: facts{DeliveredAt: delivered}},
		{
			name:  "school: delivery and acknowledgement, both open",
			facts: with(school, func(*facts) {}),
			want: []step{watch(events.StepDelivery, "R1", requested, due, time.Time{}),
				watch(events.StepAcknowledgement, "R1", requested, due, time.Time{})},
		},
		{
			name:  "school acknowledged before its delivery was heard of: both done",
			facts: with(school, func(f *facts) { f.AcknowledgedAt = acked }),
			want: []step{watch(events.StepDelivery, "R1", requested, due, acked),
				watch(events.StepAcknowledgement, "R1", requested, due, acked)},
		},
		{
			name:  "MASH notice without the router's triage deadline: no triage step",
			facts: with(mash, func(*facts) {}),
			want:  []step{watch(events.StepDelivery, "R1", requested, due, time.Time{})},
		},
		{
			name:  "MASH: triage runs from receipt to the router's deadline, before delivery is heard of",
			facts: with(mash, func(f *facts) { f.TriageDueAt = requested.Add(24 * time.Hour) }),
			want: []step{watch(events.StepDelivery, "R1", requested, due, time.Time{}),
				watch(events.StepTriage, "R2", requested, requested.Add(24*time.Hour), time.Time{})},
		},
		{
			name: "MASH triaged",
			facts: with(mash, func(f *facts) {
				f.DeliveredAt, f.TriageDueAt, f.TriagedAt = delivered, requested.Add(4*time.Hour), triaged
			}),
			want: []step{watch(events.StepDelivery, "R1", requested, due, delivered),
				watch(events.StepTriage, "R2", requested, requested.Add(4*time.Hour), triaged)},
		},
		{
			name:  "a triage deadline on a notice to anyone but the MASH is ignored",
			facts: with(school, func(f *facts) { f.TriageDueAt = requested.Add(time.Hour) }),
			want: []step{watch(events.StepDelivery, "R1", requested, due, time.Time{}),
				watch(events.StepAcknowledgement, "R1", requested, due, time.Time{})},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rules.plan(tc.facts)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

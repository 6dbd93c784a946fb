package sla

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

func TestProposedRAG(t *testing.T) {
	cases := []struct {
		name   string
		notice string
		flags  []string
		want   string
	}{
		{name: "the notice's own member wins", notice: `{"default_rag":"green"}`, flags: []string{"default_rag_red"}, want: "green"},
		{name: "the router's flag", notice: `{}`, flags: []string{"rag_reason_dash_high", "default_rag_red"}, want: "red"},
		{name: "nonsense in both is ignored", notice: `{"default_rag":"blue"}`, flags: []string{"default_rag_blue"}, want: ""},
		{name: "nothing proposed", notice: `{}`, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := events.NotificationRequestedData{Notice: json.RawMessage(tc.notice), Flags: tc.flags}
			if got := proposedRAG(n); got != tc.want {
				t.Errorf("proposedRAG(%s, %v) = %q, want %q", tc.notice, tc.flags, got, tc.want)
			}
		})
	}
}

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
			name:  "MASH not yet delivered: no triage step yet",
			facts: with(mash, func(*facts) {}),
			want:  []step{watch(events.StepDelivery, "R1", requested, due, time.Time{})},
		},
		{
			name:  "MASH delivered: triage runs from receipt, amber by default",
			facts: with(mash, func(f *facts) { f.DeliveredAt = delivered }),
			want: []step{watch(events.StepDelivery, "R1", requested, due, delivered),
				watch(events.StepTriage, "R2", delivered, delivered.Add(24*time.Hour), time.Time{})},
		},
		{
			name:  "MASH red and triaged",
			facts: with(mash, func(f *facts) { f.DeliveredAt, f.DefaultRAG, f.TriagedAt = delivered, "red", triaged }),
			want: []step{watch(events.StepDelivery, "R1", requested, due, delivered),
				watch(events.StepTriage, "R2", delivered, delivered.Add(4*time.Hour), triaged)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rules.plan(tc.facts, nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

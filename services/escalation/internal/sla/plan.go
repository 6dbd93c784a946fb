package sla

import (
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// facts is everything known of one notice, gathered from events that may
// have arrived in any order. A zero time means "not heard of yet".
type facts struct {
	NotificationID string
	IncidentID     string
	// Requested is set once notification.requested has arrived; until then
	// only the ids and the times below are known.
	Requested   bool
	RequestedAt time.Time
	RuleID      string
	Recipient   events.Recipient
	DueAt       time.Time
	// TriageDueAt is R2's deadline on a MASH notice, as the router
	// computed it from the policy; zero on other notices.
	TriageDueAt    time.Time
	DeliveredAt    time.Time
	AcknowledgedAt time.Time
	// TriagedAt is when the MASH rated the notice's incident.
	TriagedAt time.Time
	// FailedAt is when delivery gave the notice up.
	FailedAt time.Time
	// ReceivedAt is when Lantern accepted the incident: R1's stop for a
	// MASH notice. Zero on requests that did not carry it.
	ReceivedAt time.Time
}

// receivedLate says whether a MASH notice reached Lantern after its R1
// deadline: the police-to-MASH step was missed before Lantern had it.
func (f facts) receivedLate() bool {
	return f.Recipient.Kind == events.KindMASH && f.ReceivedAt.After(f.DueAt)
}

// step is one deadline to watch, as planned from the facts.
type step struct {
	Name     string
	RuleID   string
	StartsAt time.Time
	AtRiskAt time.Time
	DueAt    time.Time
	// DoneAt is zero while the step is open.
	DoneAt time.Time
	// Failed is true when delivery gave the notice up, which brings an
	// existing step's at-risk time forward.
	Failed bool
}

// plan returns the steps the facts call for. It is pure, so that the same
// facts always give the same steps, whichever event arrived last.
//
// Every notice has a delivery step, due at the notice's due_at. Notices to
// the acknowledging kinds have an acknowledgement step, due at the same
// time. A MASH notice has a triage step, due at its triage_due_at: R2 of
// the routing policy, counted from the MASH's receipt. A MASH notice that
// reached Lantern after its deadline has a receipt step instead of its
// delivery step (see lateReceipt). A notice whose delivery failed is at
// risk from the failure. Anything that shows a notice arrived also completes its
// delivery step, because an acknowledgement or a triage decision can be
// seen before the delivery event that preceded it.
func (r Rules) plan(f facts) []step {
	if !f.Requested {
		return nil
	}
	deliveredBy := []time.Time{f.DeliveredAt, f.AcknowledgedAt}
	if f.Recipient.Kind == events.KindMASH {
		deliveredBy = append(deliveredBy, f.TriagedAt)
	}
	delivery := r.window(events.StepDelivery, f.RuleID, f.RequestedAt, f.DueAt, earliest(deliveredBy...))
	if !f.FailedAt.IsZero() && delivery.DoneAt.IsZero() {
		// Delivery gave up: waiting for the usual lead time would only
		// let the deadline come closer with nobody trying.
		delivery.AtRiskAt, delivery.Failed = earliest(delivery.AtRiskAt, f.FailedAt), true
	}
	steps := []step{delivery}
	if f.receivedLate() {
		steps = r.lateReceipt(f, delivery)
	}
	if r.acknowledges(f.Recipient.Kind) {
		steps = append(steps, r.window(events.StepAcknowledgement, f.RuleID, f.RequestedAt, f.DueAt, f.AcknowledgedAt))
	}
	if f.Recipient.Kind == events.KindMASH && !f.TriageDueAt.IsZero() {
		steps = append(steps, r.window(events.StepTriage, TriageRuleID, f.RequestedAt, f.TriageDueAt, f.TriagedAt))
	}
	return steps
}

// lateReceipt plans a MASH notice that reached Lantern after its R1
// deadline: a receipt step, breached at the next tick and never done, so
// that the MASH's manager and the sending force hear of it once. Its
// delivery step would only repeat that alarm, so it is kept only when
// delivery failed, which is news of its own.
func (r Rules) lateReceipt(f facts, delivery step) []step {
	receipt := step{Name: events.StepReceipt, RuleID: f.RuleID, StartsAt: f.ReceivedAt, AtRiskAt: f.DueAt, DueAt: f.DueAt}
	if delivery.Failed {
		return []step{receipt, delivery}
	}
	return []step{receipt}
}

func (r Rules) window(name, ruleID string, start, due, done time.Time) step {
	return step{Name: name, RuleID: ruleID, StartsAt: start, AtRiskAt: r.AtRisk(start, due), DueAt: due, DoneAt: done}
}

// earliest returns the earliest non-zero time, or zero if all are zero.
func earliest(times ...time.Time) time.Time {
	var first time.Time
	for _, t := range times {
		if !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first
}

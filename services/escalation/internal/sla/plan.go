package sla

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// facts is everything known of one notice, gathered from events that may
// have arrived in any order. A zero time means "not heard of yet".
type facts struct {
	NotificationID string
	IncidentID     string
	// Requested is set once notification.requested has arrived; until then
	// only the ids and the times below are known.
	Requested      bool
	RequestedAt    time.Time
	RuleID         string
	Recipient      events.Recipient
	DueAt          time.Time
	DefaultRAG     string
	DeliveredAt    time.Time
	AcknowledgedAt time.Time
	// TriagedAt is when the MASH rated the notice's incident.
	TriagedAt time.Time
	// FailedAt is when delivery gave the notice up.
	FailedAt time.Time
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
// time. A MASH notice has, once its delivery is known, a triage step: R2,
// from receipt. A notice whose delivery failed is at risk from the
// failure. Anything that shows a notice arrived also completes its
// delivery step, because an acknowledgement or a triage decision can be
// seen before the delivery event that preceded it.
func (r Rules) plan(f facts, ref *refdata.Set) []step {
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
	if r.acknowledges(f.Recipient.Kind) {
		steps = append(steps, r.window(events.StepAcknowledgement, f.RuleID, f.RequestedAt, f.DueAt, f.AcknowledgedAt))
	}
	if f.Recipient.Kind == events.KindMASH && !f.DeliveredAt.IsZero() {
		hours, hol := mashCalendar(ref, f.Recipient.ID)
		due := r.Triage.TriageDue(f.DefaultRAG, f.DeliveredAt, hours, hol)
		steps = append(steps, r.window(events.StepTriage, r.Triage.RuleID, f.DeliveredAt, due, f.TriagedAt))
	}
	return steps
}

func (r Rules) window(name, ruleID string, start, due, done time.Time) step {
	return step{Name: name, RuleID: ruleID, StartsAt: start, AtRiskAt: r.AtRisk(start, due), DueAt: due, DoneAt: done}
}

// mashCalendar returns the opening hours of the MASH of a local authority
// and the bank holidays; zero hours when the authority is unknown.
func mashCalendar(ref *refdata.Set, localAuthorityCode string) (calendar.OpeningHours, calendar.Holidays) {
	if ref == nil {
		return calendar.OpeningHours{}, nil
	}
	la, _ := ref.LocalAuthority(localAuthorityCode)
	return la.MASHHours, ref.Holidays()
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

// defaultRAGFlagPrefix marks the router's proposed rating among a notice's
// flags, as in default_rag_red.
const defaultRAGFlagPrefix = "default_rag_"

// proposedRAG returns the RAG rating the router proposed to the MASH: the
// notice's default_rag member if it has one, else a default_rag_<rating>
// flag, else empty (and the triage rule's fallback applies).
func proposedRAG(n events.NotificationRequestedData) string {
	var notice struct {
		DefaultRAG string `json:"default_rag"`
	}
	if json.Unmarshal(n.Notice, &notice) == nil && slices.Contains(ratings(), notice.DefaultRAG) {
		return notice.DefaultRAG
	}
	for _, flag := range n.Flags {
		if rag, ok := strings.CutPrefix(flag, defaultRAGFlagPrefix); ok && slices.Contains(ratings(), rag) {
			return rag
		}
	}
	return ""
}

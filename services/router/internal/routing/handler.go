package routing

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
)

// Store is what the handler needs of the router's persistence. Each Record
// call stores one consumed event's decisions exactly once.
type Store interface {
	// History counts the earlier incidents of the same children and the
	// same pairs of adults within months of occurredAt, not counting
	// incidentID itself.
	History(ctx context.Context, incidentID string, occurredAt time.Time, months int, ids Identities) (History, error)
	// RecordIncident stores the case, the identity keys and the decisions
	// of an incident.reported event.
	RecordIncident(ctx context.Context, consumer, eventID string, occurredAt time.Time, ids Identities, out Outcome) error
	// Case returns the case kept for an incident, and false if there is none.
	Case(ctx context.Context, incidentID string) (Case, bool, error)
	// RecordTriage stores the decisions of a triage.decided event.
	RecordTriage(ctx context.Context, consumer, eventID string, out Outcome) error
}

// Consumer is the router's durable consumer name.
const Consumer = "router"

// Handler routes incident.reported and triage.decided events.
type Handler struct {
	Decider Decider
	Store   Store
	Hasher  Hasher
	// RepeatWindowMonths returns the policy's repeat window, read once per
	// incident like the rest of the policy.
	RepeatWindowMonths func() int
	Log                *zap.Logger
}

// Handle is a bus.Handler.
func (h *Handler) Handle(ctx context.Context, e cloudevent.Event) error {
	switch events.Type(e.Type()) {
	case events.IncidentReported:
		return h.onIncident(ctx, e)
	case events.TriageDecided:
		return h.onTriage(ctx, e)
	}
	return nil
}

var _ bus.Handler = (&Handler{}).Handle

func decode(e cloudevent.Event, t events.Type, v any) error {
	if err := eventschema.ValidateData(t, e.Data()); err != nil {
		return bus.Permanent(fmt.Errorf("event %s: %w", e.ID(), err))
	}
	if err := cloudevent.DecodeData(e, v); err != nil {
		return bus.Permanent(err)
	}
	return nil
}

func (h *Handler) onIncident(ctx context.Context, e cloudevent.Event) error {
	var d events.IncidentReportedData
	if err := decode(e, events.IncidentReported, &d); err != nil {
		return err
	}
	ids := h.Hasher.Identify(d.Incident)
	history, err := h.Store.History(ctx, d.IncidentID, d.Incident.OccurredAt, h.RepeatWindowMonths(), ids)
	if err != nil {
		return fmt.Errorf("reading the history of incident %s: %w", d.IncidentID, err)
	}
	// Decisions are timed by the event, not the wall clock, so that a
	// redelivery hours later decides exactly as the first delivery did.
	out, err := h.Decider.OnIncident(ctx, d, history, e.Time())
	if err != nil {
		return fmt.Errorf("routing incident %s: %w", d.IncidentID, err)
	}
	if err := h.Store.RecordIncident(ctx, Consumer, e.ID(), d.Incident.OccurredAt, ids, out); err != nil {
		return fmt.Errorf("recording the routing of incident %s: %w", d.IncidentID, err)
	}
	h.logOutcome("incident routed", d.IncidentID, out)
	return nil
}

func (h *Handler) onTriage(ctx context.Context, e cloudevent.Event) error {
	var t events.TriageDecidedData
	if err := decode(e, events.TriageDecided, &t); err != nil {
		return err
	}
	c, ok, err := h.Store.Case(ctx, t.IncidentID)
	if err != nil {
		return fmt.Errorf("reading the case of incident %s: %w", t.IncidentID, err)
	}
	if !ok {
		// The MASH can only rate an incident the router has told it of,
		// so the incident is still being recorded: try again later.
		return fmt.Errorf("triage of incident %s arrived before the incident was routed", t.IncidentID)
	}
	out, err := h.Decider.OnTriage(ctx, c, t, e.Time())
	if err != nil {
		return bus.Permanent(fmt.Errorf("routing the triage of incident %s: %w", t.IncidentID, err))
	}
	if err := h.Store.RecordTriage(ctx, Consumer, e.ID(), out); err != nil {
		return fmt.Errorf("recording the triage routing of incident %s: %w", t.IncidentID, err)
	}
	h.logOutcome("triage routed", t.IncidentID, out)
	return nil
}

// logOutcome logs ids, counts and recipient kinds only: never a name, a
// date of birth or any other content of the notices.
func (h *Handler) logOutcome(msg, incidentID string, out Outcome) {
	kinds := make([]string, 0, len(out.Decisions))
	for _, d := range out.Decisions {
		kinds = append(kinds, string(d.Request.Recipient.Kind))
	}
	fields := []zap.Field{zap.String("incident_id", incidentID), zap.Int("notices", len(out.Decisions)),
		zap.Strings("recipient_kinds", kinds), zap.String("policy_digest", out.PolicyDigest)}
	if len(out.Unrouted) > 0 {
		unrouted := make([]string, len(out.Unrouted))
		for i, k := range out.Unrouted {
			unrouted[i] = string(k)
		}
		h.Log.Warn(msg+" with recipients missing from the reference data", append(fields, zap.Strings("unrouted_kinds", unrouted))...)
		return
	}
	h.Log.Info(msg, fields...)
}

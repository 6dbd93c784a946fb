package routing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// Store is what the handler needs of the router's persistence. Each Record
// call stores one consumed event's decisions exactly once.
type Store interface {
	// History counts the earlier incidents of the same children and the
	// same pairs of adults within months of occurredAt, not counting
	// incidentID itself.
	History(ctx context.Context, q HistoryQuery) (History, error)
	// RecordIncident stores the case, the identity keys and the decisions
	// of an incident.reported event, decided on seen. If another incident
	// of the same children or adults was recorded since seen was read, it
	// records nothing and returns ErrHistoryChanged.
	RecordIncident(ctx context.Context, consumer, eventID string, q HistoryQuery, seen History, out Outcome) error
	// Case returns the case kept for an incident, and false if there is none.
	Case(ctx context.Context, incidentID string) (Case, bool, error)
	// RecordTriage stores the decisions of a triage.decided event.
	RecordTriage(ctx context.Context, consumer, eventID string, out Outcome) error
}

// HistoryQuery names an incident whose other incidents are counted: those
// of the same children and the same pairs of adults within Months of
// OccurredAt.
type HistoryQuery struct {
	IncidentID string
	OccurredAt time.Time
	Months     int
	IDs        Identities
}

// ErrHistoryChanged means an incident of the same family was recorded
// between reading the history and recording the decisions taken on it, as
// when two routers handle a family's incidents at once: the decisions may
// miss a repeat, so they are taken again.
var ErrHistoryChanged = errors.New("the family's history changed while the incident was being routed")

// maxDecideAttempts bounds how often an incident is decided again because
// its history moved; beyond it the message is redelivered later.
const maxDecideAttempts = 5

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
	// Clock says when routing happens, which notification.requested
	// records as its time; nil means the system clock.
	Clock clock.Clock
	Log   *zap.Logger

	once sync.Once
	mux  *bus.Mux
}

// routedAt is the moment a decision is taken, as the events it produces
// record it.
func (h *Handler) routedAt() time.Time {
	if h.Clock == nil {
		return clock.System.Now()
	}
	return h.Clock.Now()
}

// Mux routes the two event types the router consumes to their handlers.
func (h *Handler) Mux() *bus.Mux {
	h.once.Do(func() {
		h.mux = bus.NewMux()
		bus.On(h.mux, events.IncidentReported, h.onIncident)
		bus.On(h.mux, events.TriageDecided, h.onTriage)
	})
	return h.mux
}

// Handle is a bus.Handler.
func (h *Handler) Handle(ctx context.Context, e cloudevent.Event) error {
	return h.Mux().Handle(ctx, e)
}

var _ bus.Handler = (&Handler{}).Handle

func (h *Handler) onIncident(ctx context.Context, e cloudevent.Event, d events.IncidentReportedData) error {
	q := HistoryQuery{IncidentID: d.IncidentID, OccurredAt: d.Incident.OccurredAt,
		Months: h.RepeatWindowMonths(), IDs: h.Hasher.Identify(d.Incident)}
	var out Outcome
	var err error
	for range maxDecideAttempts {
		out, err = h.decideAndRecord(ctx, e, d, q)
		if !errors.Is(err, ErrHistoryChanged) {
			break
		}
	}
	if err != nil {
		return err
	}
	h.logOutcome("incident routed", d.IncidentID, out)
	return nil
}

// decideAndRecord routes the incident on its history as it stands and
// records the outcome, unless the history moved in between.
func (h *Handler) decideAndRecord(ctx context.Context, e cloudevent.Event, d events.IncidentReportedData, q HistoryQuery) (Outcome, error) {
	history, err := h.Store.History(ctx, q)
	if err != nil {
		return Outcome{}, fmt.Errorf("reading the history of incident %s: %w", d.IncidentID, err)
	}
	// Deadlines are timed by the incident (its occurrence and Lantern's
	// receipt), so a redelivery hours later decides them exactly as the
	// first delivery did; the requests record when routing happened, which
	// is only ever stored once, so replaying the stored events gives the
	// same times.
	out, err := h.Decider.OnIncident(ctx, d, history, h.routedAt())
	if err != nil {
		return Outcome{}, fmt.Errorf("routing incident %s: %w", d.IncidentID, err)
	}
	if err := h.Store.RecordIncident(ctx, Consumer, e.ID(), q, history, out); err != nil {
		return Outcome{}, fmt.Errorf("recording the routing of incident %s: %w", d.IncidentID, err)
	}
	return out, nil
}

func (h *Handler) onTriage(ctx context.Context, e cloudevent.Event, t events.TriageDecidedData) error {
	c, ok, err := h.Store.Case(ctx, t.IncidentID)
	if err != nil {
		return fmt.Errorf("reading the case of incident %s: %w", t.IncidentID, err)
	}
	if !ok {
		// The MASH can only rate an incident the router has told it of,
		// so the incident is still being recorded: try again later.
		return fmt.Errorf("triage of incident %s arrived before the incident was routed", t.IncidentID)
	}
	out, err := h.Decider.OnTriage(ctx, c, t, h.routedAt())
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

package bus

import (
	"context"
	"fmt"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
)

// Middleware wraps a Handler with a step every event passes through, such
// as tracing, metrics or authorising the source, so that the step is
// written once and stacked rather than copied into each handler.
type Middleware func(Handler) Handler

// Chain wraps h in mws; the first middleware sees the event first.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Typed handles one event whose data has been validated against its
// schema and decoded.
type Typed[T any] func(ctx context.Context, e cloudevent.Event, data T) error

// Mux sends each event to the typed handler registered for its type, and
// names the subjects those types are published on, so that a consumer's
// subject filter is derived from the catalogue rather than typed by hand.
// An event of a type it has no handler for is acknowledged and ignored.
type Mux struct {
	handlers map[events.Type]Handler
	order    []events.Type
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{handlers: map[events.Type]Handler{}} }

// On registers h for events of type t. Before h runs, the event's data is
// validated against t's schema and decoded into T; data that fails either
// can never succeed, so the error is Permanent and the event dead-lettered
// without h seeing it. Registering a type outside the catalogue, or one
// type twice, is a programming error and panics.
func On[T any](m *Mux, t events.Type, h Typed[T]) {
	if _, ok := events.Lookup(t); !ok {
		panic(fmt.Sprintf("bus.On: %q is not in the event catalogue", t))
	}
	if _, dup := m.handlers[t]; dup {
		panic(fmt.Sprintf("bus.On: %s registered twice", t))
	}
	m.order = append(m.order, t)
	m.handlers[t] = func(ctx context.Context, e cloudevent.Event) error {
		data, err := Decode[T](t, e)
		if err != nil {
			return err
		}
		return h(ctx, e, data)
	}
}

// Decode validates e's data against t's schema and decodes it, with a
// Permanent error for data that fails either.
func Decode[T any](t events.Type, e cloudevent.Event) (T, error) {
	var v T
	if err := eventschema.ValidateData(t, e.Data()); err != nil {
		return v, Permanent(fmt.Errorf("event %s: %w", e.ID(), err))
	}
	if err := cloudevent.DecodeData(e, &v); err != nil {
		return v, Permanent(fmt.Errorf("event %s: %w", e.ID(), err))
	}
	return v, nil
}

// Subjects are the subject filters of every registered type, in the order
// registered.
func (m *Mux) Subjects() []string {
	out := make([]string, 0, len(m.order))
	for _, t := range m.order {
		f, _ := events.Filter(t) // On admits catalogue types only
		out = append(out, f)
	}
	return out
}

// Handle is a Handler that dispatches by event type.
func (m *Mux) Handle(ctx context.Context, e cloudevent.Event) error {
	h, ok := m.handlers[events.Type(e.Type())]
	if !ok {
		return nil
	}
	return h(ctx, e)
}

var _ Handler = (&Mux{}).Handle

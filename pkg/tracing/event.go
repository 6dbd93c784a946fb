package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
)

// eventCarrier reads an event's trace context from its extensions.
type eventCarrier struct{ e cloudevent.Event }

func (c eventCarrier) Get(key string) string {
	if key != ExtTraceparent {
		return ""
	}
	v, _ := c.e.Extensions()[ExtTraceparent].(string)
	return v
}

func (c eventCarrier) Set(string, string) {}
func (c eventCarrier) Keys() []string     { return []string{ExtTraceparent} }

var _ propagation.TextMapCarrier = eventCarrier{}

// FromEvent is ctx carrying, as its remote parent, the trace context e
// arrived with, if any.
func FromEvent(ctx context.Context, e cloudevent.Event) context.Context {
	return propagator.Extract(ctx, eventCarrier{e})
}

// Traceparent is the W3C traceparent of the span in ctx, or "" when ctx
// holds none.
func Traceparent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagator.Inject(ctx, carrier)
	return carrier[ExtTraceparent]
}

// Stamp returns e carrying the trace context of ctx in its traceparent
// extension, for an event caused by the work traced in ctx. An event that
// has one already keeps it, so that a handler run again after a crash
// re-enqueues the same bytes.
func Stamp(ctx context.Context, e cloudevent.Event) cloudevent.Event {
	if _, ok := e.Extensions()[ExtTraceparent]; ok {
		return e
	}
	tp := Traceparent(ctx)
	if tp == "" {
		return e
	}
	out := e.Clone()
	out.SetExtension(ExtTraceparent, tp)
	return out
}

// eventAttributes are what a span says of an event: its type and ids,
// nothing from its data.
func eventAttributes(e cloudevent.Event) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("cloudevents.event_type", e.Type()),
		attribute.String("cloudevents.event_id", e.ID()),
		attribute.String("cloudevents.event_source", e.Source()),
		attribute.String("lantern.incident_id", cloudevent.IncidentID(e)),
	}
}

// Consumer is middleware giving every event a durable handles a consumer
// span, child of the trace the event carries, so that what the handler
// enqueues continues that trace.
func Consumer(durable string) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, e cloudevent.Event) error {
			ctx, span := Tracer().Start(FromEvent(ctx, e), "handle "+e.Type(), trace.WithSpanKind(trace.SpanKindConsumer),
				trace.WithAttributes(append(eventAttributes(e), attribute.String("messaging.consumer.group.name", durable),
					attribute.Int64("messaging.delivery", int64(bus.Delivery(ctx))))...))
			defer span.End()
			err := next(ctx, e)
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, "handler failed")
			}
			return err
		}
	}
}

// Published records a relay's publish of e as a producer span in the
// trace e carries. The span starts and ends at the acknowledgement: the
// relay publishes a whole batch at once, and this span marks that the
// stream holds e.
func Published(subject string, e cloudevent.Event, duplicate bool) {
	_, span := Tracer().Start(FromEvent(context.Background(), e), "publish "+e.Type(), trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(append(eventAttributes(e), attribute.String("messaging.destination.name", subject),
			attribute.Bool("lantern.duplicate", duplicate))...))
	span.End()
}

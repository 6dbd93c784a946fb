package tracing_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/tracing"
)

func sample(t *testing.T) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: "e-1", Type: events.IncidentReported, Source: events.SourceIntake,
		Subject: "i-1", IncidentID: "i-1", Actor: "service:intake", Time: time.Unix(0, 0),
		Data: map[string]string{"incident_id": "i-1"}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestStampCarriesTheTraceAcrossAnEvent stamps an event inside a span and
// reads it back on the far side: the handler's span is the child of the
// span the event was stamped in, and an event stamped again keeps the
// context it had.
func TestStampCarriesTheTraceAcrossAnEvent(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, parent := tp.Tracer("t").Start(context.Background(), "intake")
	stamped := tracing.Stamp(ctx, sample(t))
	parent.End()
	tp2, ok := stamped.Extensions()[tracing.ExtTraceparent].(string)
	if !ok || tp2 != tracing.Traceparent(ctx) {
		t.Fatalf("traceparent = %v, want %s", stamped.Extensions()[tracing.ExtTraceparent], tracing.Traceparent(ctx))
	}
	remote := trace.SpanContextFromContext(tracing.FromEvent(context.Background(), stamped))
	if remote.TraceID() != parent.SpanContext().TraceID() || remote.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("the event carries %v, want the span it was stamped in %v", remote, parent.SpanContext())
	}
	other, span := tp.Tracer("t").Start(context.Background(), "retry")
	defer span.End()
	if again := tracing.Stamp(other, stamped); again.Extensions()[tracing.ExtTraceparent] != tp2 {
		t.Errorf("a stamped event took a new trace context on a retry")
	}
	if plain := tracing.Stamp(context.Background(), sample(t)); plain.Extensions()[tracing.ExtTraceparent] != nil {
		t.Errorf("an event outside any trace was stamped %v", plain.Extensions()[tracing.ExtTraceparent])
	}
}

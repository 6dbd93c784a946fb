// Package tracing is Lantern's OpenTelemetry tracing: a span per HTTP
// request, per handled event and per relay publish, with the W3C trace
// context carried between services in the CloudEvents `traceparent`
// extension, so that one notice is one trace from intake to every inbox.
//
// Export is by configuration, the OpenTelemetry SDK's own variables:
// with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// set, spans are batched and sent over OTLP/HTTP; without it the tracer is
// a no-op and events carry no trace context that they did not arrive with.
// Span attributes hold event types and ids, durable and route names, never
// a notice's content.
package tracing

import (
	"context"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ExtTraceparent is the CloudEvents extension that carries the W3C trace
// context (the CloudEvents distributed tracing extension).
const ExtTraceparent = "traceparent"

// instrumentation names Lantern's tracer.
const instrumentation = "github.com/lantern-safeguarding/lantern"

// propagator reads and writes W3C trace context.
var propagator = propagation.TraceContext{}

// Enabled reports whether the environment asks for OTLP export.
func Enabled() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the tracer provider for service as the process's global
// one and returns its shutdown, which flushes spans still batched. Without
// an OTLP endpoint configured it installs nothing and shutdown does
// nothing.
func Setup(ctx context.Context, service string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagator)
	if !Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", service)))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// Tracer is Lantern's tracer from the global provider.
func Tracer() trace.Tracer { return otel.Tracer(instrumentation) }

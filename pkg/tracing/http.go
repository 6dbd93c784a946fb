package tracing

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/lantern-safeguarding/lantern/pkg/httpserver"
)

// HTTP gives every request to next a server span, child of the trace
// context the caller sent in its traceparent header, named after the
// route pattern the mux matched (never the path, which holds ids).
func HTTP(listener string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := Tracer().Start(ctx, listener+" "+r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("lantern.listener", listener)))
		defer span.End()
		rec := httpserver.NewStatusRecorder(w)
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		if r.Pattern != "" {
			span.SetName(listener + " " + r.Pattern)
			span.SetAttributes(attribute.String("http.route", r.Pattern))
		}
		span.SetAttributes(attribute.Int("http.response.status_code", rec.Status))
		if rec.Status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(rec.Status))
		}
	})
}

// Inject writes the trace context of r's context into r's headers, for a
// request forwarded to another service.
func Inject(r *http.Request) {
	propagator.Inject(r.Context(), propagation.HeaderCarrier(r.Header))
}

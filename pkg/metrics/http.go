package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lantern-safeguarding/lantern/pkg/httpserver"
)

// HTTP counts and times the requests of one listener.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTP registers the HTTP metrics with reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "http",
			Name: "requests_total", Help: "HTTP requests answered, by listener, route pattern, method and status code."},
			[]string{"listener", "route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "http",
			Name: "request_duration_seconds", Help: "Time to answer an HTTP request, by listener, route pattern and method.",
			Buckets: prometheus.DefBuckets}, []string{"listener", "route", "method"}),
	}
	reg.MustRegister(h.requests, h.duration)
	return h
}

// Wrap instruments next as listener. The route label is the pattern the
// server's mux matched, never the path itself: paths carry incident and
// notification ids, which would make a series per notice.
func (h *HTTP) Wrap(listener string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := httpserver.NewStatusRecorder(w)
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		method := knownMethod(r.Method)
		h.requests.WithLabelValues(listener, route, method, strconv.Itoa(rec.Status)).Inc()
		h.duration.WithLabelValues(listener, route, method).Observe(time.Since(start).Seconds())
	})
}

// knownMethod keeps the method label to the standard methods, so that a
// caller cannot mint series with invented ones.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

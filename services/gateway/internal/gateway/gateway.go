// Package gateway gives Lantern one base address (LANTERN_HTTP_ADDR) for the
// intake API, the other APIs and the web pages, by forwarding each request
// to the service that owns its path.
package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/problem"
	"github.com/lantern-safeguarding/lantern/pkg/tracing"
)

// Route sends requests matching Pattern (a net/http ServeMux pattern) to
// Upstream.
type Route struct {
	Pattern  string
	Upstream *url.URL
}

// ParseRoutes reads "PATTERN=URL" pairs separated by semicolons, e.g.
// "/v1/incidents/{id}/timeline=http://127.0.0.1:8084;/v1/=http://127.0.0.1:8081".
func ParseRoutes(s string) ([]Route, error) {
	var routes []Route
	var errs []error
	for i, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		pattern, raw, ok := strings.Cut(item, "=")
		u, err := url.Parse(raw)
		if !ok || err != nil || u.Scheme == "" || u.Host == "" || !strings.HasPrefix(pattern, "/") {
			errs = append(errs, fmt.Errorf("GATEWAY_ROUTES entry %d (%q): want /path=http://host:port", i+1, item))
			continue
		}
		routes = append(routes, Route{Pattern: pattern, Upstream: u})
	}
	if len(routes) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("GATEWAY_ROUTES names no routes"))
	}
	return routes, errors.Join(errs...)
}

// Handler forwards each route to its upstream. ServeMux picks the most
// specific pattern, so a timeline route wins over a broader /v1/ route.
func Handler(routes []Route) http.Handler {
	mux := http.NewServeMux()
	for _, r := range routes {
		proxy := httputil.NewSingleHostReverseProxy(r.Upstream)
		proxy.ErrorHandler = upstreamFailed
		// The upstream's span is a child of the gateway's: the request
		// forwarded carries the gateway's trace context, not the caller's.
		mux.Handle(r.Pattern, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			tracing.Inject(req)
			proxy.ServeHTTP(w, req)
		}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

// upstreamFailed answers with a problem document when an upstream fails, so
// a caller never mistakes a gateway failure for acceptance. Only a failure
// to connect proves that the request never arrived: once it was sent, the
// upstream may have stored it and died before answering, so the caller is
// told the outcome is unknown and to retry with the same Idempotency-Key,
// never that nothing was accepted.
func upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		problem.Write(w, r, upstreamUnavailable)
		return
	}
	problem.Write(w, r, outcomeUnknown)
}

var (
	upstreamUnavailable = problem.New(http.StatusServiceUnavailable, "unavailable", "Service unavailable",
		"The service behind this path is not answering; nothing was accepted. Retry later.")
	outcomeUnknown = problem.New(http.StatusBadGateway, "outcome-unknown", "Outcome unknown",
		"The service behind this path failed after the request reached it; it may or may not have been accepted. Retry with the same Idempotency-Key to learn the outcome.")
)

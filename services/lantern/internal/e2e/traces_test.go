package e2e_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// TestOneNoticeIsOneTrace sends one notice through every service, with
// their spans exported over OTLP to a receiver in this test, and finds one
// trace that starts at the gateway and holds the spans of intake, the
// router, delivery, the ledger, escalation and the workspace's projection:
// the trace context crossed every outbox and every consumer in the events'
// traceparent extension.
func TestOneNoticeIsOneTrace(t *testing.T) {
	rcv := startOTLPReceiver(t)
	services := append(append([]string(nil), cluster.Pipeline...), "escalation", "workspace")
	c := cluster.New(t, cluster.Options{Services: services,
		Env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + rcv.url, "OTEL_BSP_SCHEDULE_DELAY=100"}})
	p := pipeline{Cluster: c, t: t}
	id := p.accept(cluster.SamplePPN(t))
	recipients := p.decided(id)
	p.settled(id, len(wantFlow(len(recipients))))
	entries := len(p.ledgerTypes(id))

	want := []string{"gateway", "intake", "router", "delivery", "ledger", "escalation", "workspace"}
	var trace []span
	c.WaitFor(60*time.Second, func() error {
		root, ok := rcv.find(func(s span) bool { return s.service == "gateway" && s.parent == "" })
		if !ok {
			return fmt.Errorf("no root span from the gateway yet")
		}
		trace = rcv.trace(root.traceID)
		seen := map[string]bool{}
		for _, s := range trace {
			seen[s.service] = true
		}
		for _, w := range want {
			if !seen[w] {
				return fmt.Errorf("the trace has no span from %s yet", w)
			}
		}
		if n := countNamed(trace, "ledger", "handle "); n < entries {
			return fmt.Errorf("the ledger's spans in the trace: %d of %d entries", n, entries)
		}
		// A relay's publish span ends only once its batch is acknowledged,
		// so it may be exported after the spans of its consumers: wait for
		// the trace to be whole before judging it.
		if gaps := traceGaps(trace); len(gaps) > 0 {
			return fmt.Errorf("the trace is not whole yet: %s", gaps[0])
		}
		return nil
	})
	if roots := rcv.roots(); roots != 1 {
		t.Errorf("%d traces began; one notice must be one trace", roots)
	}
	for _, gap := range traceGaps(trace) {
		t.Error(gap)
	}
	t.Logf("one notice, one trace: %d spans from %d services", len(trace), len(want))
}

// mustSpans are the spans one notice's trace must hold: each hop's
// publish and the consumers' handling of it.
var mustSpans = []struct{ service, prefix string }{
	{"intake", "intake api POST /v1/incidents"},
	{"intake", "publish org.lantern.incident.reported.v1"},
	{"router", "handle org.lantern.incident.reported.v1"},
	{"router", "publish org.lantern.notification.requested.v1"},
	{"delivery", "handle org.lantern.notification.requested.v1"},
	{"delivery", "publish org.lantern.notification.delivered.v1"},
	{"escalation", "handle org.lantern.notification.delivered.v1"},
	{"workspace", "handle org.lantern.notification.requested.v1"},
}

// traceGaps says what keeps trace from being one whole trace: spans whose
// parent is not in it, and required spans it lacks.
func traceGaps(trace []span) []string {
	byID := map[string]bool{}
	for _, s := range trace {
		byID[s.spanID] = true
	}
	var gaps []string
	for _, s := range trace {
		if s.parent != "" && !byID[s.parent] {
			gaps = append(gaps, fmt.Sprintf("span %q of %s has a parent outside the trace", s.name, s.service))
		}
	}
	for _, must := range mustSpans {
		if countNamed(trace, must.service, must.prefix) == 0 {
			gaps = append(gaps, fmt.Sprintf("no %q span from %s in the trace", must.prefix, must.service))
		}
	}
	return gaps
}

func countNamed(spans []span, service, prefix string) int {
	n := 0
	for _, s := range spans {
		if s.service == service && strings.HasPrefix(s.name, prefix) {
			n++
		}
	}
	return n
}

// span is what the test reads of an exported span.
type span struct {
	service, name           string
	traceID, spanID, parent string
}

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes each export
// request with the OTLP protocol's own generated types and keeps the spans.
type otlpReceiver struct {
	url   string
	mu    sync.Mutex
	spans []span
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{url: "http://" + l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.export)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *otlpReceiver) export(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range in.GetResourceSpans() {
		service := serviceName(rs)
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, span{service: service, name: s.GetName(), traceID: hex.EncodeToString(s.GetTraceId()),
					spanID: hex.EncodeToString(s.GetSpanId()), parent: hex.EncodeToString(s.GetParentSpanId())})
			}
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func serviceName(rs *tracepb.ResourceSpans) string {
	for _, a := range rs.GetResource().GetAttributes() {
		if a.GetKey() == "service.name" {
			return a.GetValue().GetStringValue()
		}
	}
	return ""
}

func (r *otlpReceiver) find(match func(span) bool) (span, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.spans, match)
	if i < 0 {
		return span{}, false
	}
	return r.spans[i], true
}

func (r *otlpReceiver) trace(id string) []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []span
	for _, s := range r.spans {
		if s.traceID == id {
			out = append(out, s)
		}
	}
	return out
}

// roots counts the distinct traces of spans that handled the notice's
// events or requests (spans of readiness probes aside).
func (r *otlpReceiver) roots() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := map[string]bool{}
	for _, s := range r.spans {
		if strings.HasPrefix(s.name, "handle ") || strings.HasPrefix(s.name, "publish ") || strings.Contains(s.name, "/v1/incidents") {
			ids[s.traceID] = true
		}
	}
	return len(ids)
}

package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lantern-safeguarding/lantern/services/gateway/internal/gateway"
)

func upstream(t *testing.T, name string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, name+" "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// gatewayTo runs the gateway with the routes given as in LANTERN_ROUTES.
func gatewayTo(t *testing.T, routes string) *httptest.Server {
	t.Helper()
	parsed, err := gateway.ParseRoutes(routes)
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(gateway.Handler(parsed))
	t.Cleanup(gw.Close)
	return gw
}

// postIncident posts an empty notice through the gateway to routes and
// returns the answer, its body read.
func postIncident(t *testing.T, routes string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(gatewayTo(t, routes).URL+"/v1/incidents", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

func TestMostSpecificRouteWins(t *testing.T) {
	intake, ledger := upstream(t, "intake"), upstream(t, "ledger")
	gw := gatewayTo(t, "/v1/incidents/{id}/timeline="+ledger+";/v1/incidents="+intake+";/v1/incidents/="+intake)
	for path, want := range map[string]string{
		"/v1/incidents":              "intake /v1/incidents",
		"/v1/incidents/abc":          "intake /v1/incidents/abc",
		"/v1/incidents/abc/timeline": "ledger /v1/incidents/abc/timeline",
	} {
		resp, err := http.Get(gw.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("GET %s reached %q, want %q", path, body, want)
		}
	}
}

func TestDownUpstreamIsA503Problem(t *testing.T) {
	resp, _ := postIncident(t, "/v1/=http://127.0.0.1:1")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("got %d %q, want a 503 problem", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestUpstreamDyingAfterTheRequestIsA502Problem covers an upstream that
// read the request and then vanished without answering, as the intake does
// when it crashes after storing a notice: the caller must learn that the
// outcome is unknown, not that nothing was accepted.
func TestUpstreamDyingAfterTheRequestIsA502Problem(t *testing.T) {
	dying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_ = conn.Close()
	}))
	defer dying.Close()
	resp, body := postIncident(t, "/v1/="+dying.URL)
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(string(body), "outcome-unknown") {
		t.Errorf("got %d %q %s, want a 502 outcome-unknown problem", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestParseRoutesNamesEveryBadEntry(t *testing.T) {
	_, err := gateway.ParseRoutes("v1=http://x;/ok=http://127.0.0.1:9;/bad=notaurl")
	if err == nil || !strings.Contains(err.Error(), "entry 1") || !strings.Contains(err.Error(), "entry 3") {
		t.Errorf("err = %v, want entries 1 and 3 named", err)
	}
}

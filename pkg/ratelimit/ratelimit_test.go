package ratelimit_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func TestEachClientHasItsOwnMinute(t *testing.T) {
	c := clock.NewFake(t0)
	l := ratelimit.New(6, c)
	for i := range 6 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of 6 refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("the 7th request: allowed %v, wait %v; want refused for 10s (6 a minute)", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another client was refused for the first one's requests")
	}
	c.Advance(wait - time.Millisecond)
	if ok, _ := l.Allow("a"); ok {
		t.Error("allowed before Retry-After")
	}
	c.Advance(time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused at Retry-After")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("a refill of one let two through")
	}
}

func TestIdleClientsAreForgotten(t *testing.T) {
	c := clock.NewFake(t0)
	l := ratelimit.New(60, c)
	for i := range 1000 {
		l.Allow(strconv.Itoa(i))
	}
	c.Advance(61 * time.Second)
	l.Allow("new")
	if n := l.Clients(); n != 1 {
		t.Errorf("%d clients remembered after a minute idle, want 1", n)
	}
}

func TestHandlerAnswers429AsAProblem(t *testing.T) {
	c := clock.NewFake(t0)
	l := ratelimit.New(2, c)
	calls := 0
	h := l.Handler(func(r *http.Request) string { return r.Header.Get("X-Client") },
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	send := func(client string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/signin", nil)
		r.Header.Set("X-Client", client)
		h.ServeHTTP(w, r)
		return w
	}
	send("a")
	send("a")
	w := send("a")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("third request: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if got := w.Header().Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %q, want 30", got)
	}
	var p struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != 429 || p.Type == "" {
		t.Errorf("problem %s: %v", w.Body, err)
	}
	if calls != 2 {
		t.Errorf("the handler ran %d times, want 2: a refused request does nothing", calls)
	}
	for range 5 {
		if w := send(""); w.Code != http.StatusOK {
			t.Errorf("a request with no key: %d", w.Code)
		}
	}
}

func TestClientAddress(t *testing.T) {
	proxies, err := ratelimit.ParseProxies(ratelimit.DefaultProxies + ",10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer, forwarded, want string
	}{
		{"a client straight in", "192.0.2.7:5555", "", "192.0.2.7"},
		{"a client straight in, lying", "192.0.2.7:5555", "198.51.100.1", "192.0.2.7"},
		{"through the gateway", "127.0.0.1:40000", "192.0.2.7", "192.0.2.7"},
		{"through a balancer and the gateway", "127.0.0.1:40000", "192.0.2.7, 10.1.2.3", "192.0.2.7"},
		{"a lie through the gateway", "127.0.0.1:40000", "198.51.100.1, 192.0.2.7", "192.0.2.7"},
		{"the gateway's own request", "127.0.0.1:40000", "", "127.0.0.1"},
		{"IPv6 through the gateway", "[::1]:40000", "2001:db8::5", "2001:db8::5"},
		{"garbage forwarded", "127.0.0.1:40000", "not-an-address", "127.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			if tc.forwarded != "" {
				r.Header.Set("X-Forwarded-For", tc.forwarded)
			}
			if got := proxies.ClientAddress(r); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := ratelimit.ParseProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix was accepted")
	}
}

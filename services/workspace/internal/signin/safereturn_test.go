package signin

import (
	"net/url"
	"testing"
)

func TestSafeReturnKeepsLanternsOwnAddresses(t *testing.T) {
	for _, s := range []string{"/", "/mash", "/incidents/0190d3c4-8f1e-7cc2-9d3a-4b8f2e1a7c55",
		"/audit?from=2026-11-01&to=2026-11-30", "/inbox?page=2", "/audit/export/csv?from=2026-11-01",
		"/search?q=a%20b", "/x?y=%3A"} {
		if got := SafeReturn(s); got != s {
			t.Errorf("SafeReturn(%q) = %q, want it kept", s, got)
		}
	}
}

func TestSafeReturnRefusesEveryWayOffTheSite(t *testing.T) {
	raw := []string{
		"", "mash", "https://evil.example/", "//evil.example", "///evil.example",
		"/\t/evil.example", "/\r/evil.example", "/\n/evil.example", "/\r\n/evil.example",
		"/\\evil.example", "\\/evil.example", "/\\/evil.example", "/ /evil.example",
		"/%09/evil.example", "/%0d/evil.example", "/%0A/evil.example", "/%0d%0a/evil.example",
		"/%5cevil.example", "/%5C%5Cevil.example", "/%2f/evil.example", "/%2F%2Fevil.example",
		"/%252f%252fevil.example", "/%", "/%2", "/%zz", "/%00", "/%7f",
		"/mash\x00", "/mash\x7f", "/caf\xc3\xa9", "/\u2215\u2215evil.example",
		"/mash#frag", "/mash<script>", "/mash\"onload", "/mash'", "/a;b", "/" + string(make([]byte, 2000)),
	}
	for _, s := range raw {
		if got := SafeReturn(s); got != "/" {
			t.Errorf("SafeReturn(%q) = %q, want /", s, got)
		}
	}
}

// TestSafeReturnAsTheQueryArrives gives the addresses as an attacker puts
// them in ?next=, decoded once by the query parser as the sign-in route
// decodes them.
func TestSafeReturnAsTheQueryArrives(t *testing.T) {
	for _, next := range []string{"/%09/evil.example", "/%0D/evil.example", "/%0A/evil.example",
		"/%5Cevil.example", "/%252F%252Fevil.example", "%2F%2Fevil.example", "/%2509/evil.example"} {
		q, err := url.ParseQuery("next=" + next)
		if err != nil {
			t.Fatalf("parsing %q: %v", next, err)
		}
		if got := SafeReturn(q.Get("next")); got != "/" {
			t.Errorf("next=%s: SafeReturn(%q) = %q, want /", next, q.Get("next"), got)
		}
	}
}

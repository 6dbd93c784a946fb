package ppn_test

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const canonicalGolden = "testdata/sample-ppn.canonical.json"

// TestCanonicalGolden pins the canonical form of the sample. Stored content
// hashes depend on it: if this test fails after a library upgrade, repeats
// of notices already accepted would be taken for conflicts.
func TestCanonicalGolden(t *testing.T) {
	t.Parallel()
	in := mustDecode(t, sample(t))

	got := in.Canonical()

	if *update {
		if err := os.WriteFile(canonicalGolden, append(got, '\n'), 0o644); err != nil {
			t.Fatalf("writing %s: %v", canonicalGolden, err)
		}
	}
	want, err := os.ReadFile(canonicalGolden)
	if err != nil {
		t.Fatalf("reading %s: %v", canonicalGolden, err)
	}
	want = []byte(strings.TrimSuffix(string(want), "\n"))
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Canonical mismatch (-want +got):\n%s", diff)
	}
	sum := sha256.Sum256(want)
	if got, want := in.ContentHash(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("ContentHash = %s, want %s", got, want)
	}
}

func TestContentHash(t *testing.T) {
	t.Parallel()
	base := mustDecode(t, sample(t)).ContentHash()
	cases := []struct {
		name string
		body string
		same bool
	}{
		{"members reordered and spaces removed", mutate(t, func(notice) {}), true},
		{"the same instant at another offset", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20T23:15:00+01:00"`), true},
		{"a redundant zero fraction of a second", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20T22:15:00.000Z"`), true},
		{"escapes in strings", edit(t, `"KENT"`, `"\u004B\u0045NT"`), true},
		{"false written out", edit(t, `"on_probation": true`, `"on_probation": true, "pregnant": false`), true},
		{"another name", edit(t, `"Amy Doe"`, `"Amy Doe-Smith"`), false},
		{"the same name decomposed", edit(t, `"Amy Doe"`, `"Amy Doe\u0301"`), false},
		{"another instant", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20T22:15:00.5Z"`), false},
		{"another count", edit(t, `"yes_count": 15`, `"yes_count": 16`), false},
		{"a MAPPA level left out", edit(t, `, "mappa_level": 0`, ``), false},
		{"adults in another order", mutate(t, func(n notice) {
			adults := n["adults"].([]any)
			adults[0], adults[1] = adults[1], adults[0]
		}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := mustDecode(t, tc.body).ContentHash()
			if same := got == base; same != tc.same {
				t.Errorf("hash equal to the sample's = %v, want %v", same, tc.same)
			}
		})
	}
}

// TestCanonicalRoundTrip checks that the canonical form is itself a valid
// notice that decodes to the same incident.
func TestCanonicalRoundTrip(t *testing.T) {
	t.Parallel()
	in := mustDecode(t, sample(t))

	again := mustDecode(t, string(in.Canonical()))

	if diff := cmp.Diff(in, again); diff != "" {
		t.Errorf("Decode(Canonical()) mismatch (-want +got):\n%s", diff)
	}
}

package chaos

import (
	"crypto/sha256"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// chain builds n correctly linked entries.
func chain(n int) []chainEntry {
	prev := make([]byte, sha256.Size)
	var out []chainEntry
	for i := 1; i <= n; i++ {
		sum := sha256.Sum256([]byte{byte(i)})
		e := chainEntry{seq: int64(i), prev: prev, bodySum: sum[:]}
		e.hash = chainHash(prev, e.seq, e.bodySum)
		out = append(out, e)
		prev = e.hash
	}
	return out
}

func TestChainVerifier(t *testing.T) {
	cases := []struct {
		name   string
		tamper func([]chainEntry) []chainEntry
		want   LedgerCheck
	}{
		{"intact", func(c []chainEntry) []chainEntry { return c }, LedgerCheck{Entries: 5}},
		{"entry 3 missing", func(c []chainEntry) []chainEntry { return append(c[:2], c[3:]...) },
			LedgerCheck{Entries: 4, Gaps: 1, FirstBadSeq: 4}},
		{"entry 2 rewritten", func(c []chainEntry) []chainEntry {
			c[1].bodySum = make([]byte, sha256.Size)
			return c
		}, LedgerCheck{Entries: 5, FirstBadSeq: 2}},
		{"entries 2 and 3 swapped", func(c []chainEntry) []chainEntry {
			c[1], c[2] = c[2], c[1]
			c[1].seq, c[2].seq = 2, 3
			return c
		}, LedgerCheck{Entries: 5, FirstBadSeq: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v chainVerifier
			for _, e := range c.tamper(chain(5)) {
				v.add(e)
			}
			if diff := cmp.Diff(c.want, v.check); diff != "" {
				t.Errorf("verification (-want +got):\n%s", diff)
			}
		})
	}
}

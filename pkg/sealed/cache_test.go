package sealed

import (
	"fmt"
	"testing"
	"time"
)

// TestKeyCacheStaysBounded: a process that meets a new incident with each
// notice keeps at most maxCachedKeys keys, drops the expired ones first,
// and keeps the key it was just given.
func TestKeyCacheStaysBounded(t *testing.T) {
	c := &keyCache{keys: map[string]cachedKey{}}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range maxCachedKeys / 2 {
		c.put(map[string][]byte{fmt.Sprintf("old-%d", i): {1}}, t0)
	}
	later := t0.Add(cacheTTL)
	for i := range 3 * maxCachedKeys {
		id := fmt.Sprintf("inc-%d", i)
		c.put(map[string][]byte{id: {2}}, later)
		if len(c.keys) > maxCachedKeys {
			t.Fatalf("after %d new keys the cache holds %d, more than %d", i+1, len(c.keys), maxCachedKeys)
		}
		if _, ok := c.keys[id]; !ok {
			t.Fatalf("the key just cached, %s, is missing", id)
		}
	}
	for id := range c.keys {
		if id[:4] == "old-" {
			t.Fatalf("expired key %s outlived the sweeps", id)
		}
	}
	big := map[string][]byte{}
	for i := range 2 * maxCachedKeys {
		big[fmt.Sprintf("bulk-%d", i)] = []byte{3}
	}
	c.put(big, later)
	if len(c.keys) > maxCachedKeys {
		t.Errorf("after a bulk put the cache holds %d, more than %d", len(c.keys), maxCachedKeys)
	}
}

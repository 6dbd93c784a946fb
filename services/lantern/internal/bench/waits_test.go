package bench_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/bench"
)

// TestSampleWaitsSeesABusyBackend samples a database while another
// connection runs one statement for half a second: the profile has
// samples, and counts that backend as active in that statement, named by
// its first words.
func TestSampleWaitsSeesABusyBackend(t *testing.T) {
	url, pool := pgtest.NewPool(t, "", nil)
	busy := pgtest.Connect(t, url)
	stop := bench.SampleWaits(t.Context(), pool, 5*time.Millisecond)
	if _, err := busy.Exec(t.Context(), `SELECT pg_sleep(0.5)`); err != nil {
		t.Fatal(err)
	}
	p := stop()
	if p.Samples == 0 {
		t.Fatal("no samples taken")
	}
	seen := 0
	for state, n := range p.Counts {
		if strings.HasPrefix(state, "active, ") && strings.HasSuffix(state, ", SELECT pg_sleep(0.5)") {
			seen += n
		}
	}
	if seen == 0 {
		t.Errorf("the sleeping statement was never sampled as active: %v", p.Counts)
	}
}

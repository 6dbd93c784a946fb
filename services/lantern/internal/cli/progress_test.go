package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
)

func TestProgressShowsCountRateAndETA(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	var b bytes.Buffer
	p := newProgress(&b, "replaying", 1000, c)
	c.Advance(10 * time.Second)
	p.set(250)
	p.set(260) // within redrawEvery: not drawn
	c.Advance(10 * time.Second)
	p.set(500)
	c.Advance(20 * time.Second)
	p.set(1000)
	p.finish()
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\r")[1:]
	want := []string{
		"replaying [#######.......................] 250/1000  25/s  ETA 30s",
		"replaying [###############...............] 500/1000  25/s  ETA 20s",
		"replaying [##############################] 1000/1000  25/s  ETA done",
		"replaying [##############################] 1000/1000  25/s  ETA done",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress lines (-want +got):\n%s", diff)
	}
}

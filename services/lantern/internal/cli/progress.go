package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

// progress draws a one-line bar on a terminal's error stream: done of
// total, rate and time left. It redraws at most every redrawEvery so that
// a fast loop is not slowed by its own reporting.
type progress struct {
	w     io.Writer
	label string
	total int64
	clock clock.Clock
	start time.Time
	drawn time.Time
	done  int64
}

const (
	redrawEvery = 200 * time.Millisecond
	barWidth    = 30
)

func newProgress(w io.Writer, label string, total int64, c clock.Clock) *progress {
	now := c.Now()
	return &progress{w: w, label: label, total: total, clock: c, start: now, drawn: now.Add(-redrawEvery)}
}

// set records that done items are finished and redraws if it is time.
func (p *progress) set(done int64) {
	p.done = done
	if now := p.clock.Now(); now.Sub(p.drawn) >= redrawEvery {
		p.drawn = now
		fmt.Fprint(p.w, "\r"+p.line(now))
	}
}

// finish draws the final state and ends the line.
func (p *progress) finish() {
	fmt.Fprintln(p.w, "\r"+p.line(p.clock.Now()))
}

func (p *progress) line(now time.Time) string {
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed.Seconds()
	}
	total := max(p.total, p.done)
	filled := barWidth
	if total > 0 {
		filled = int(int64(barWidth) * p.done / total)
	}
	bar := strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled)
	return fmt.Sprintf("%s [%s] %d/%d  %.0f/s  ETA %s", p.label, bar, p.done, total, rate, p.eta(rate, total))
}

func (p *progress) eta(rate float64, total int64) string {
	switch {
	case p.done >= total:
		return "done"
	case rate <= 0:
		return "?"
	}
	left := time.Duration(float64(total-p.done) / rate * float64(time.Second))
	return timeliness.Duration(left)
}

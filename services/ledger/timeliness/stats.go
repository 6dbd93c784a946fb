package timeliness

import (
	"math"
	"slices"
	"time"
)

// Stats summarises how long a step took.
type Stats struct {
	N int `json:"n"`
	// Median and P90 are in seconds, null when N is 0.
	Median *float64 `json:"median_seconds"`
	P90    *float64 `json:"p90_seconds"`
}

// statsOf computes the median and 90th percentile of ds with linear
// interpolation between the closest ranks, as a spreadsheet's
// PERCENTILE.INC does, so that a board member can check any figure by hand.
func statsOf(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	secs := make([]float64, len(ds))
	for i, d := range ds {
		secs[i] = d.Seconds()
	}
	slices.Sort(secs)
	med, p90 := millis(percentile(secs, 0.5)), millis(percentile(secs, 0.9))
	return Stats{N: len(ds), Median: &med, P90: &p90}
}

// percentile of sorted values, p in [0, 1].
func percentile(sorted []float64, p float64) float64 {
	rank := p * float64(len(sorted)-1)
	lo := int(rank)
	if lo+1 >= len(sorted) {
		return sorted[lo]
	}
	frac := rank - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// millis rounds seconds to the millisecond, dropping the last bits of
// floating-point noise that would otherwise show in a CSV cell.
func millis(s float64) float64 { return math.Round(s*1000) / 1000 }

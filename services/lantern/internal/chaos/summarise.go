package chaos

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/problem"
)

// Window is when a fault lasted.
type Window struct {
	Start, End time.Time
}

// Phase names the part of the run t falls in.
func (w Window) Phase(t time.Time) string {
	switch {
	case t.Before(w.Start):
		return PhaseBefore
	case t.Before(w.End):
		return PhaseDuring
	default:
		return PhaseAfter
	}
}

// Summarise counts what the clients sent and learnt, and how each attempt
// ended. An attempt that took longer than hangAfter counts as hung.
func Summarise(subs []*Submission, hangAfter time.Duration) (Requests, ErrorMix) {
	r := Requests{Notices: len(subs)}
	e := ErrorMix{ByStatus: map[string]int{}, HangAfter: Secs(hangAfter)}
	for _, s := range subs {
		switch s.Outcome {
		case OK:
			r.OK++
		case Fail:
			r.Fail++
		case Unknown:
			r.Unknown++
		}
		if recoveredByRetry(s) {
			r.RecoveredByRetry++
		}
		if falseRefusal(s) {
			r.FalseRefusals++
		}
		for _, a := range s.Attempts {
			r.Attempts++
			countAttempt(&e, a, hangAfter)
		}
	}
	return r, e
}

func countAttempt(e *ErrorMix, a Attempt, hangAfter time.Duration) {
	key := strconv.Itoa(a.Status)
	if slug, ok := strings.CutPrefix(a.Problem, problem.TypeBase); ok && a.Status >= 500 {
		// Two 503s differ: one says nothing was stored, the other that the
		// outcome is unknown.
		key += " " + slug
	}
	switch {
	case a.Status == 0:
		key = "no answer"
		e.NoAnswer++
	case a.Status >= 500:
		e.Server5xx++
	case a.Status >= 400:
		e.Client4xx++
	}
	if a.Status == 500 {
		e.Status500++
	}
	e.ByStatus[key]++
	if a.Duration > hangAfter {
		e.Hung++
	}
	e.Slowest = max(e.Slowest, Secs(a.Duration))
}

// recoveredByRetry reports a notice acknowledged after an attempt whose
// outcome was open.
func recoveredByRetry(s *Submission) bool {
	if s.Outcome != OK {
		return false
	}
	for _, a := range s.Attempts[:len(s.Attempts)-1] {
		if a.Verdict() == Ambiguous {
			return true
		}
	}
	return false
}

// falseRefusal reports a notice found already stored (200) although every
// earlier attempt was told definitely that nothing was stored.
func falseRefusal(s *Submission) bool {
	n := len(s.Attempts)
	if s.Outcome != OK || n < 2 || s.Attempts[n-1].Status != 200 {
		return false
	}
	for _, a := range s.Attempts[:n-1] {
		if v := a.Verdict(); v != Refused && v != Rejected {
			return false
		}
	}
	return true
}

// Detect is the time from the fault's start until a client first learnt
// that an attempt failed, or nil if none did.
func Detect(subs []*Submission, w Window) *Seconds {
	var first time.Time
	for _, s := range subs {
		for _, a := range s.Attempts {
			end := a.Start.Add(a.Duration)
			if a.Verdict() == Accepted || end.Before(w.Start) {
				continue
			}
			if first.IsZero() || end.Before(first) {
				first = end
			}
		}
	}
	if first.IsZero() {
		return nil
	}
	d := Secs(first.Sub(w.Start))
	return &d
}

// Recorded is one ledger entry of a run's incidents, as the timings need it.
type Recorded struct {
	IncidentID string
	Delivered  bool
	At         time.Time
}

// Timeline derives recovery, drain, latencies and the work done during the
// fault from when the ledger recorded each entry.
func Timeline(subs []*Submission, entries []Recorded, w Window) Timings {
	t := Timings{Latency: map[string]Latency{}}
	byIncident := map[string][]Recorded{}
	var recovered time.Time
	for _, e := range entries {
		byIncident[e.IncidentID] = append(byIncident[e.IncidentID], e)
		if !e.At.Before(w.Start) && e.At.Before(w.End) {
			t.LedgerDuringFault++
		}
		if e.Delivered && !e.At.Before(w.End) && (recovered.IsZero() || e.At.Before(recovered)) {
			recovered = e.At
		}
	}
	if !recovered.IsZero() {
		t.Recover = ptr(Secs(recovered.Sub(w.End)))
	}
	t.Drain = drain(subs, byIncident, w)
	samples := map[string][]time.Duration{}
	for _, s := range subs {
		if s.Outcome != OK {
			continue
		}
		phase := w.Phase(s.FirstSent())
		for _, e := range byIncident[s.IncidentID] {
			if e.Delivered {
				samples[phase] = append(samples[phase], e.At.Sub(s.FirstSent()))
			}
		}
	}
	for _, phase := range []string{PhaseBefore, PhaseDuring, PhaseAfter} {
		t.Latency[phase] = Summary(samples[phase])
	}
	return t
}

// drain is how long after the fault's end the last entry of any notice sent
// before that end was recorded; zero if all were recorded during the fault.
func drain(subs []*Submission, byIncident map[string][]Recorded, w Window) *Seconds {
	var last time.Time
	for _, s := range subs {
		if s.Outcome != OK || !s.FirstSent().Before(w.End) {
			continue
		}
		for _, e := range byIncident[s.IncidentID] {
			if e.At.After(last) {
				last = e.At
			}
		}
	}
	if last.IsZero() {
		return nil
	}
	return ptr(Secs(max(last.Sub(w.End), 0)))
}

// Summary gives the count, median, 99th percentile (nearest rank) and
// maximum of samples.
func Summary(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := func(p float64) Seconds {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return Secs(s[max(i, 0)])
	}
	return Latency{N: len(s), P50: rank(0.50), P99: rank(0.99), Max: Secs(s[len(s)-1])}
}

func ptr[T any](v T) *T { return &v }

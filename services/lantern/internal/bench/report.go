// Package bench measures Lantern on the machine it runs on: end-to-end
// throughput and latency from a police notice accepted to every notice
// delivered, at fixed rates and at saturation; replay speed; the time to
// report on a year of history; and, in the same run, the machine's raw
// JetStream publish and consume rates and raw PostgreSQL insert rates, so
// that Lantern's figures can be read as fractions of what the machine can
// do at all. `make bench` runs its benchmarks and prints the summary.
package bench

import (
	"fmt"
	"io"
	"sync"
)

// Figure is one measured quantity of a run.
type Figure struct {
	Name  string
	Value float64
	Unit  string
	// Target is the goal the figure is held to, in words; empty when it
	// has none.
	Target string
	// Met says whether the target was reached; nil without a target.
	Met *bool
}

// Results collects a run's figures, in the order they were measured. It is
// safe for concurrent use.
type Results struct {
	mu      sync.Mutex
	figures []Figure
	notes   []string
}

// Add records a figure without a target.
func (r *Results) Add(name string, value float64, unit string) {
	r.add(Figure{Name: name, Value: value, Unit: unit})
}

// AddTarget records a figure held to a target.
func (r *Results) AddTarget(name string, value float64, unit, target string, met bool) {
	r.add(Figure{Name: name, Value: value, Unit: unit, Target: target, Met: &met})
}

func (r *Results) add(f Figure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.figures {
		if r.figures[i].Name == f.Name {
			r.figures[i] = f
			return
		}
	}
	r.figures = append(r.figures, f)
}

// Note records a line of explanation for the summary.
func (r *Results) Note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// Value returns a figure's value, and false if it was not measured.
func (r *Results) Value(name string) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.figures {
		if f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}

// Ratio records name as the ratio of two figures, when both were measured.
func (r *Results) Ratio(name, numerator, denominator string) {
	n, okN := r.Value(numerator)
	d, okD := r.Value(denominator)
	if okN && okD && d > 0 {
		r.Add(name, n/d, "ratio")
	}
}

// Write prints the machine and every figure as Markdown tables.
func (r *Results) Write(w io.Writer, m Machine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "\n## Lantern benchmark\n\n%s\n", m.Markdown())
	fmt.Fprintf(w, "| figure | value | unit | target | met |\n|---|---:|---|---|---|\n")
	for _, f := range r.figures {
		met := ""
		if f.Met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*f.Met]
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", f.Name, format(f.Value), f.Unit, f.Target, met)
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "\n- %s", n)
	}
	fmt.Fprintln(w)
}

// format prints a value with as many decimals as its size deserves.
func format(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.4f", v)
}

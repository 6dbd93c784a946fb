package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Retention counts the retention scheduler's runs and shreddings in one
// process. The totals across replicas (incidents shredded for good, holds
// open) are read from the ledger's tables at scrape time by the ledger.
type Retention struct {
	runs     *prometheus.CounterVec
	shredded prometheus.Counter
	lastRun  prometheus.Gauge
	due      prometheus.Gauge
	held     prometheus.Gauge
}

// Outcomes of a retention run, the label of lantern_retention_runs_total.
const (
	RetentionRan     = "ran"
	RetentionSkipped = "skipped" // another replica held the lock
	RetentionFailed  = "failed"
)

// NewRetention registers the retention scheduler's metrics with reg.
func NewRetention(reg prometheus.Registerer) *Retention {
	r := &Retention{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "retention", Name: "runs_total",
			Help: "Scheduled retention runs by outcome: ran, skipped (another replica was running) or failed."}, []string{"outcome"}),
		shredded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "retention", Name: "shredded_total",
			Help: "Incidents this process crypto-shredded."}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "retention", Name: "last_run_timestamp_seconds",
			Help: "When this process last completed a retention run, in Unix seconds; 0 before the first."}),
		due: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "retention", Name: "last_run_due_incidents",
			Help: "Incidents past their retention at the last completed run, held ones included."}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "retention", Name: "last_run_held_incidents",
			Help: "Incidents past their retention kept by a legal hold at the last completed run."}),
	}
	for _, o := range []string{RetentionRan, RetentionSkipped, RetentionFailed} {
		r.runs.WithLabelValues(o) // a rate from zero, before the first
	}
	reg.MustRegister(r.runs, r.shredded, r.lastRun, r.due, r.held)
	return r
}

// Ran records a completed run at at: how many incidents were due, held
// and shredded by it.
func (r *Retention) Ran(at time.Time, due, held, shredded int) {
	r.runs.WithLabelValues(RetentionRan).Inc()
	r.shredded.Add(float64(shredded))
	r.lastRun.Set(float64(at.Unix()))
	r.due.Set(float64(due))
	r.held.Set(float64(held))
}

// Skipped records a run left to another replica.
func (r *Retention) Skipped() { r.runs.WithLabelValues(RetentionSkipped).Inc() }

// Failed records a run that stopped on an error, after shredding
// shredded incidents.
func (r *Retention) Failed(shredded int) {
	r.runs.WithLabelValues(RetentionFailed).Inc()
	r.shredded.Add(float64(shredded))
}

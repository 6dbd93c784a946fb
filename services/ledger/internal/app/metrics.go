package app

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/metrics"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// registerMetrics exposes the ledger's head, read from its table at scrape
// time, the entries recorded per event type, and the newest signed
// checkpoint's sequence number and age (a growing age with a head ahead of
// the checkpoint means the chain is going unsigned), and the incidents
// shredded and held across every replica.
func registerMetrics(reg prometheus.Registerer, pool *pgxpool.Pool, cp *auditlog.Checkpointer, c clock.Clock) {
	head := metrics.Query{Pool: pool, SQL: `SELECT seq::float8 FROM ledger.head`,
		Columns: []metrics.Column{{Desc: prometheus.NewDesc(metrics.Namespace+"_ledger_head_seq",
			"Sequence number of the ledger's last entry.", nil, nil), Type: prometheus.GaugeValue}}}
	entries := metrics.Query{Pool: pool, Labels: 1,
		SQL: `SELECT event_type, count(*)::float8 FROM ledger.entries GROUP BY event_type`,
		Columns: []metrics.Column{{Desc: prometheus.NewDesc(metrics.Namespace+"_ledger_entries_total",
			"Entries the ledger holds, by event type.", []string{"type"}, nil), Type: prometheus.CounterValue}}}
	checkpointSeq := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Name: "ledger_checkpoint_seq",
		Help: "Sequence number the newest signed checkpoint covers; 0 before the first."}, func() float64 {
		seq, _, _ := cp.Last()
		return float64(seq)
	})
	checkpointAge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Name: "ledger_checkpoint_age_seconds",
		Help: "Time since the newest checkpoint was signed; -1 before the first."}, func() float64 {
		_, at, ok := cp.Last()
		if !ok {
			return -1
		}
		return c.Now().Sub(at).Seconds()
	})
	retained := metrics.Query{Pool: pool,
		SQL: `SELECT (SELECT count(*) FROM ledger.shreddings)::float8, (SELECT count(*) FROM ledger.holds WHERE released_at IS NULL)::float8`,
		Columns: []metrics.Column{
			{Desc: prometheus.NewDesc(metrics.Namespace+"_retention_incidents_shredded",
				"Incidents whose personal data was crypto-shredded, by any replica or run.", nil, nil), Type: prometheus.GaugeValue},
			{Desc: prometheus.NewDesc(metrics.Namespace+"_retention_holds_open",
				"Legal holds in force.", nil, nil), Type: prometheus.GaugeValue}}}
	reg.MustRegister(head, entries, checkpointSeq, checkpointAge, retained)
}

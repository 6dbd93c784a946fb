package metrics

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
)

// Outbox is a service's outbox seen from outside: depth and age read from
// its table at scrape time, and what its relay published.
type Outbox struct {
	published  *prometheus.CounterVec
	duplicates *prometheus.CounterVec
}

// NewOutbox registers the metrics of the outbox kept in schema, read from
// pool at scrape time.
func NewOutbox(reg prometheus.Registerer, pool *pgxpool.Pool, schema string) *Outbox {
	o := &Outbox{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "relay",
			Name: "published_total", Help: "Events the outbox relay published and the stream acknowledged, by outbox and event type."},
			[]string{"outbox", "type"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "relay",
			Name: "duplicates_total", Help: "Events re-published after a relay crashed before marking them, which the stream recognised and dropped."},
			[]string{"outbox"}),
	}
	table := pgx.Identifier{schema, "outbox"}.Sanitize()
	depth := Query{
		Pool: pool,
		SQL: `SELECT count(*)::float8, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
			FROM ` + table + ` WHERE published_at IS NULL`,
		Columns: []Column{
			{Desc: prometheus.NewDesc(Namespace+"_outbox_pending_events", "Events committed to the outbox and not yet published.",
				nil, prometheus.Labels{"outbox": schema}), Type: prometheus.GaugeValue},
			{Desc: prometheus.NewDesc(Namespace+"_outbox_oldest_pending_age_seconds",
				"Age of the oldest event not yet published; 0 when none is waiting.", nil, prometheus.Labels{"outbox": schema}),
				Type: prometheus.GaugeValue},
		},
	}
	reg.MustRegister(o.published, o.duplicates, depth)
	o.duplicates.WithLabelValues(schema).Add(0)
	return o
}

// Published counts e, published by the relay of outbox; duplicate says the
// stream already held it.
func (o *Outbox) Published(outbox string, e cloudevent.Event, duplicate bool) {
	if duplicate {
		o.duplicates.WithLabelValues(outbox).Inc()
		return
	}
	o.published.WithLabelValues(outbox, e.Type()).Inc()
}

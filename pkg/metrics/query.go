package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Column is one metric a Query's rows give: the row's first columns are
// the labels of every Column (as strings), then one float8 column per
// Column, in order.
type Column struct {
	Desc *prometheus.Desc
	Type prometheus.ValueType
}

// Query is a collector that runs SQL at scrape time, so that a figure the
// database holds is read from it rather than counted a second time.
type Query struct {
	Pool *pgxpool.Pool
	SQL  string
	// Labels is how many leading text columns are label values.
	Labels  int
	Columns []Column
}

// Describe sends every column's description.
func (q Query) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range q.Columns {
		ch <- c.Desc
	}
}

// Collect runs the query; if it fails, the scrape reports the error.
func (q Query) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := scrapeContext()
	defer cancel()
	rows, err := q.Pool.Query(ctx, q.SQL)
	if err != nil {
		q.invalid(ch, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		labels := make([]string, q.Labels)
		values := make([]float64, len(q.Columns))
		dest := make([]any, 0, q.Labels+len(q.Columns))
		for i := range labels {
			dest = append(dest, &labels[i])
		}
		for i := range values {
			dest = append(dest, &values[i])
		}
		if err := rows.Scan(dest...); err != nil {
			q.invalid(ch, err)
			return
		}
		for i, c := range q.Columns {
			ch <- prometheus.MustNewConstMetric(c.Desc, c.Type, values[i], labels...)
		}
	}
	if err := rows.Err(); err != nil {
		q.invalid(ch, err)
	}
}

func (q Query) invalid(ch chan<- prometheus.Metric, err error) {
	for _, c := range q.Columns {
		ch <- prometheus.NewInvalidMetric(c.Desc, err)
	}
}

package app

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lantern-safeguarding/lantern/pkg/metrics"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// deadlineMetrics reads the escalation service's deadlines from its tables
// at scrape time: the open steps by state, and every at-risk and breach
// raised, per recipient kind and local authority. Organisation codes are
// read but never exposed; only the local authority they belong to is.
type deadlineMetrics struct {
	pool      *pgxpool.Pool
	reference func() *refdata.Set
	open      *prometheus.Desc
	raised    *prometheus.Desc
}

func newDeadlineMetrics(pool *pgxpool.Pool, reference func() *refdata.Set) *deadlineMetrics {
	labels := []string{"recipient_kind", "local_authority"}
	return &deadlineMetrics{pool: pool, reference: reference,
		open: prometheus.NewDesc(metrics.Namespace+"_deadlines_open",
			"Deadlines not yet met, by state (watching, at_risk, breached), step, recipient kind and local authority.",
			append(labels, "step", "state"), nil),
		raised: prometheus.NewDesc(metrics.Namespace+"_deadlines_escalated_total",
			"At-risk warnings and breaches raised, by level (at_risk, breached), recipient kind and local authority.",
			append(labels, "level"), nil),
	}
}

func (m *deadlineMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.open
	ch <- m.raised
}

func (m *deadlineMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ref := m.reference()
	if err := m.collect(ctx, ch, m.open, prometheus.GaugeValue, ref, 2, `SELECT n.recipient_kind, n.recipient_id, s.step, s.state, count(*)
		FROM escalation.steps s JOIN escalation.notifications n USING (notification_id)
		WHERE s.done_at IS NULL GROUP BY 1, 2, 3, 4`); err != nil {
		ch <- prometheus.NewInvalidMetric(m.open, err)
	}
	if err := m.collect(ctx, ch, m.raised, prometheus.CounterValue, ref, 1, `SELECT n.recipient_kind, n.recipient_id, e.level, count(*)
		FROM escalation.escalations e JOIN escalation.notifications n USING (notification_id) GROUP BY 1, 2, 3`); err != nil {
		ch <- prometheus.NewInvalidMetric(m.raised, err)
	}
}

// collect runs q, whose rows are recipient kind, recipient id, extra text
// labels and a count, and sends the counts summed per local authority.
func (m *deadlineMetrics) collect(ctx context.Context, ch chan<- prometheus.Metric, desc *prometheus.Desc,
	vt prometheus.ValueType, ref *refdata.Set, extra int, q string) error {
	rows, err := m.pool.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	sums := map[[4]string]float64{}
	var order [][4]string
	for rows.Next() {
		var kind, id string
		var more [2]string
		var n int64
		dest := []any{&kind, &id}
		for i := range extra {
			dest = append(dest, &more[i])
		}
		if err := rows.Scan(append(dest, &n)...); err != nil {
			return err
		}
		key := [4]string{kind, localAuthority(ref, id), more[0], more[1]}
		if _, seen := sums[key]; !seen {
			order = append(order, key)
		}
		sums[key] += float64(n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range order {
		ch <- prometheus.MustNewConstMetric(desc, vt, sums[k], k[:2+extra]...)
	}
	return nil
}

// localAuthority is the local authority a recipient belongs to: a MASH's
// and a commissioned service's id is the authority's code, a school's or
// setting's authority is in the reference data, and recipients outside
// any one authority (GP practices, probation, MARAC) are "none".
func localAuthority(ref *refdata.Set, id string) string {
	if ref == nil {
		return "unknown"
	}
	if _, ok := ref.LocalAuthority(id); ok {
		return id
	}
	if s, ok := ref.School(id); ok {
		return s.LocalAuthorityCode
	}
	return "none"
}

package store

import (
	"context"
	"fmt"
	"time"
)

// KindCounts are the numbers of notices of one recipient kind, with no
// personal data, for the overview of those who oversee the service.
type KindCounts struct {
	Kind         string
	Requested    int
	Delivered    int
	Acknowledged int
	Decided      int
	Overdue      int
}

// Overview counts notices by recipient kind. A notice is overdue when its
// deadline has passed and it is neither acknowledged nor, for the MASH,
// decided.
func Overview(ctx context.Context, q Querier, now time.Time) ([]KindCounts, error) {
	rows, err := q.Query(ctx, `SELECT n.recipient_kind, count(*), count(d.notification_id), count(a.notification_id),
		count(t.incident_id),
		count(*) FILTER (WHERE n.due_at < $1 AND a.notification_id IS NULL AND t.incident_id IS NULL)
		FROM workspace.notices n
		LEFT JOIN workspace.deliveries d ON d.notification_id = n.notification_id
		LEFT JOIN workspace.acknowledgements a ON a.notification_id = n.notification_id
		LEFT JOIN workspace.triage_decisions t ON t.notification_id = n.notification_id
		GROUP BY n.recipient_kind ORDER BY n.recipient_kind`, now)
	if err != nil {
		return nil, fmt.Errorf("counting notices: %w", err)
	}
	defer rows.Close()
	var out []KindCounts
	for rows.Next() {
		var k KindCounts
		if err := rows.Scan(&k.Kind, &k.Requested, &k.Delivered, &k.Acknowledged, &k.Decided, &k.Overdue); err != nil {
			return nil, fmt.Errorf("scanning counts: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

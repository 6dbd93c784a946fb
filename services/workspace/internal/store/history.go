package store

import (
	"context"
	"fmt"
	"time"
)

// EarlierIncident is an earlier MASH notice, to the same MASH, about at
// least one of the same people.
type EarlierIncident struct {
	NotificationID string
	IncidentID     string
	OccurredAt     time.Time
	// MatchedPersonIDs are the person ids, in the earlier notice, of the
	// people who matched.
	MatchedPersonIDs []string
	// MatchedBy says how: "nhs_number", "name_and_date_of_birth" or both.
	MatchedBy []string
}

// HistoryWindow is how far back earlier incidents are looked for.
const HistoryWindow = 365 * 24 * time.Hour

// EarlierIncidents finds the incidents, notified to the same MASH in the
// twelve months before this one, that share a person with it: the same NHS
// number, or the same normalised name and date of birth.
func EarlierIncidents(ctx context.Context, q Querier, n Notice) ([]EarlierIncident, error) {
	rows, err := q.Query(ctx, `
		SELECT o.notification_id::text, o.incident_id::text, o.occurred_at,
		       array_agg(DISTINCT o.person_id ORDER BY o.person_id),
		       array_agg(DISTINCT CASE WHEN o.nhs_number <> '' AND o.nhs_number = p.nhs_number
		                 THEN 'nhs_number' ELSE 'name_and_date_of_birth' END)
		FROM workspace.mash_people p
		JOIN workspace.mash_people o
		  ON o.recipient_id = p.recipient_id
		 AND o.incident_id <> p.incident_id
		 AND ((p.nhs_number <> '' AND o.nhs_number = p.nhs_number)
		   OR (p.date_of_birth <> '' AND o.date_of_birth = p.date_of_birth AND o.name_key = p.name_key))
		WHERE p.notification_id = $1
		  AND o.occurred_at < $2 AND o.occurred_at >= $3
		GROUP BY o.notification_id, o.incident_id, o.occurred_at
		ORDER BY o.occurred_at DESC`, n.NotificationID, n.OccurredAt, n.OccurredAt.Add(-HistoryWindow))
	if err != nil {
		return nil, fmt.Errorf("finding earlier incidents: %w", err)
	}
	defer rows.Close()
	var out []EarlierIncident
	for rows.Next() {
		var e EarlierIncident
		if err := rows.Scan(&e.NotificationID, &e.IncidentID, &e.OccurredAt, &e.MatchedPersonIDs, &e.MatchedBy); err != nil {
			return nil, fmt.Errorf("scanning earlier incident: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

package ledger

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// Step is one recorded event of an incident's timeline.
type Step struct {
	Seq       int64     `json:"seq"`
	EventID   string    `json:"event_id"`
	Type      string    `json:"type"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	Subject   string    `json:"subject,omitempty"`
	Recipient *struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"recipient,omitempty"`
	RuleID string     `json:"rule_id,omitempty"`
	DueAt  *time.Time `json:"due_at,omitempty"`
}

// Timeline returns every step recorded for incidentID, in ledger order.
func (l *Ledger) Timeline(ctx context.Context, incidentID string) ([]Step, error) {
	entries, err := auditlog.IncidentEntries(ctx, l.pool, incidentID)
	if err != nil {
		return nil, err
	}
	steps := make([]Step, 0, len(entries))
	for _, e := range entries {
		step, err := stepOf(e)
		if err != nil {
			return nil, err
		}
		steps = append(steps, step)
	}
	return steps, nil
}

func stepOf(entry auditlog.Entry) (Step, error) {
	e, err := entry.CloudEvent()
	if err != nil {
		return Step{}, err
	}
	step := Step{Seq: entry.Seq, EventID: e.ID(), Type: e.Type(), Time: e.Time(), Actor: entry.Actor, Subject: e.Subject()}
	// Only routing metadata is lifted from the data: never the notice.
	var meta struct {
		Recipient *struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"recipient"`
		RuleID string     `json:"rule_id"`
		DueAt  *time.Time `json:"due_at"`
	}
	if err := json.Unmarshal(e.Data(), &meta); err == nil {
		step.Recipient, step.RuleID, step.DueAt = meta.Recipient, meta.RuleID, meta.DueAt
	}
	return step, nil
}

// AuditTimeline returns the incident's steps grouped by child, with each
// notification's deadline and whether it was met.
func (l *Ledger) AuditTimeline(ctx context.Context, incidentID string) (projection.Timeline, error) {
	return projection.IncidentTimeline(ctx, l.pool, incidentID)
}

// IncidentForce returns the police force that reported the incident, read
// from the actor of its incident.reported entry.
func (l *Ledger) IncidentForce(ctx context.Context, incidentID string) (string, error) {
	var actor string
	err := l.pool.QueryRow(ctx, `SELECT actor FROM ledger.entries
		WHERE incident_id = $1 AND event_type = 'org.lantern.incident.reported.v1' LIMIT 1`, incidentID).Scan(&actor)
	if err != nil {
		return "", ErrNotFound
	}
	if force, ok := strings.CutPrefix(actor, "police:"); ok && force != "" {
		return force, nil
	}
	return "", ErrNotFound
}

// Pool is the ledger's database, for the readers of its projections.
func (l *Ledger) Pool() *pgxpool.Pool { return l.pool }

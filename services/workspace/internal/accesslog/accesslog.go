// Package accesslog records every read of personal data in the workspace,
// and every refusal, as an org.lantern.access.recorded.v1 event for the
// ledger. The events go through the workspace's outbox, committed before
// the data is returned: if the record cannot be stored the read is refused,
// so there is never a read the ledger does not know of.
package accesslog

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
)

// What was read.
const (
	ResourceNoticeSummary      = "notice_summary"
	ResourceNotice             = "notice"
	ResourceIncident           = "incident"
	ResourceIncidentHistory    = "incident_history"
	ResourceSafeguardingRecord = "safeguarding_record"
	ResourceEndpoint           = "endpoint"
	// ResourceTimelinessReport is one view of the timeliness report. The
	// report is aggregate, but it lists every breach by incident id, so each
	// view is recorded once, against no incident.
	ResourceTimelinessReport = "timeliness_report"
	// ResourceIncidentTimeline is one incident's audit timeline.
	ResourceIncidentTimeline = "incident_timeline"
	// ResourcePolicySimulation is a period's incidents routed again under
	// a proposed policy.
	ResourcePolicySimulation = "policy_simulation"
	// ResourceDisclosureLog is a search of the notices that named one
	// person; recorded against no incident and without the identifier.
	ResourceDisclosureLog = "disclosure_log"
)

// Entry is one record read, or refused.
type Entry struct {
	// IncidentID is the record's incident; empty means none matched.
	IncidentID     string
	NotificationID string
	Resource       string
	Purpose        string
	// Refusal is empty for a read that was allowed, and otherwise one of
	// events.RefusalRole, RefusalOrganisation or RefusalNotFound.
	Refusal string
}

// Recorder writes access events to the outbox.
type Recorder struct {
	pool   *pgxpool.Pool
	outbox *outbox.Store
	clock  clock.Clock
}

// New returns a recorder writing to ob.
func New(pool *pgxpool.Pool, ob *outbox.Store, c clock.Clock) *Recorder {
	return &Recorder{pool: pool, outbox: ob, clock: c}
}

// Record stores one access event per entry, all in one transaction, and
// returns only once they are committed.
func (r *Recorder) Record(ctx context.Context, u identity.User, via string, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	at := r.clock.Now().UTC()
	return pgdb.InTx(ctx, r.pool, func(tx pgx.Tx) error {
		for _, en := range entries {
			e, err := build(u, via, en, at)
			if err != nil {
				return err
			}
			if err := r.outbox.Enqueue(ctx, tx, subject(), e); err != nil {
				return fmt.Errorf("recording access: %w", err)
			}
		}
		return nil
	})
}

func subject() string {
	s, _ := events.Subject(events.AccessRecorded, "")
	return s
}

func build(u identity.User, via string, en Entry, at time.Time) (cloudevent.Event, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return cloudevent.Event{}, fmt.Errorf("making access id: %w", err)
	}
	incident := en.IncidentID
	if incident == "" {
		incident = events.NilIncidentID
	}
	data := events.AccessRecordedData{AccessID: id.String(), IncidentID: incident, NotificationID: en.NotificationID,
		UserID: u.ID, Role: string(u.Role), Organisation: u.Org.String(), Resource: en.Resource, Purpose: en.Purpose,
		Outcome: events.AccessAllowed, Refusal: en.Refusal, Via: via, At: at}
	if en.Refusal != "" {
		data.Outcome = events.AccessRefused
	}
	return cloudevent.New(cloudevent.Spec{ID: id.String(), Type: events.AccessRecorded, Source: events.SourceWorkspace,
		Subject: incident, IncidentID: incident, Actor: u.Actor(), Time: at, Data: data})
}

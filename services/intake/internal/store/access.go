package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// RecordAccess stores an access.recorded event for one read of (or one
// refused attempt to read) an incident. The caller answers only after this
// has committed, so that no read of personal data goes unrecorded.
func (s *Store) RecordAccess(ctx context.Context, a events.AccessRecordedData) error {
	if a.AccessID == "" {
		a.AccessID = uuid.Must(uuid.NewV7()).String()
	}
	e, err := cloudevent.New(cloudevent.Spec{
		ID: a.AccessID, Type: events.AccessRecorded, Source: events.SourceIntake, Subject: a.IncidentID,
		IncidentID: a.IncidentID, Actor: a.UserID, Time: a.At, Data: a,
	})
	if err != nil {
		return err
	}
	// Checked here, at the producer, so that a malformed audit record is a
	// refused read now rather than a dead letter later.
	if err := eventschema.ValidateData(events.AccessRecorded, e.Data()); err != nil {
		return err
	}
	subject, err := events.Subject(events.AccessRecorded, "")
	if err != nil {
		return err
	}
	return pgdb.InTx(ctx, s.pool, func(tx pgx.Tx) error { return s.outbox.Enqueue(ctx, tx, subject, e) })
}

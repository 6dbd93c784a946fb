package auditlog

import (
	"context"
	"fmt"
	"time"
)

// Consultation is one read of records that hold personal data, as the Data
// Protection Act 2018 s.62 asks to be logged: who read, when, what and why.
// It names records by their identifiers only.
type Consultation struct {
	At time.Time
	// Actor is who read: an operator's account, a signed-in user or a
	// police credential's force.
	Actor string
	// Action is what was done: timeline, report, replay, digest, verify.
	Action string
	// Subject names what was read: an incident id, a date range.
	Subject string
	// Purpose is why, as the reader stated it.
	Purpose string
}

// Recorder keeps consultations. Every tool that reads the ledger's events
// records the read through one before it shows anything.
type Recorder interface {
	RecordConsultation(ctx context.Context, c Consultation) error
}

// DBRecorder records consultations in ledger.consultations.
type DBRecorder struct{ DB Querier }

var _ Recorder = DBRecorder{}

// RecordConsultation appends c.
func (r DBRecorder) RecordConsultation(ctx context.Context, c Consultation) error {
	_, err := r.DB.Exec(ctx, `INSERT INTO ledger.consultations (at, actor, action, subject, purpose)
		VALUES ($1, $2, $3, $4, $5)`, c.At.UTC(), c.Actor, c.Action, c.Subject, c.Purpose)
	if err != nil {
		return fmt.Errorf("recording consultation: %w", err)
	}
	return nil
}

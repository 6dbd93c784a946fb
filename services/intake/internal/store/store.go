// Package store keeps accepted notices in the intake schema, together with
// the incident.reported event that announces each one.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/intake/migrations"
)

// Schema is the intake service's PostgreSQL schema.
const Schema = "intake"

// Outcomes of Accept.
var (
	// ErrConflict means the key is known with different content.
	ErrConflict = errors.New("a different notice was already accepted with this key")
	// ErrNotFound means no incident has the id.
	ErrNotFound = errors.New("incident not found")
	// ErrOutcomeUnknown means the commit was sent and never answered, as
	// when PostgreSQL stops or the store timeout passes while committing:
	// the notice may or may not be stored.
	ErrOutcomeUnknown = errors.New("the commit was not answered; the notice may or may not be stored")
)

// Store is the intake service's persistence.
type Store struct {
	pool   *pgxpool.Pool
	outbox *outbox.Store
	sealer *sealed.Sealer
}

// New returns a store on pool that seals each notice with its incident's
// key.
func New(pool *pgxpool.Pool, sealer *sealed.Sealer) *Store {
	return &Store{pool: pool, outbox: outbox.New(Schema).WithSealer(sealer), sealer: sealer}
}

// ppnPurpose names the sealed notice among an incident's sealed fields.
const ppnPurpose = "intake.ppn"

// Outbox is the store's outbox, for the relay.
func (s *Store) Outbox() *outbox.Store { return s.outbox }

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	return s.outbox.MigrateService(ctx, s.pool, migrations.FS)
}

// Submission is a validated notice with its keys.
type Submission struct {
	Incident       *ppn.Incident
	ContentHash    string
	IdempotencyKey string
	ReceivedAt     time.Time
}

// Accepted is the stored incident a submission resolved to.
type Accepted struct {
	IncidentID string
	// New is false when the submission repeated an earlier one exactly.
	New bool
}

// Accept stores a new incident and its incident.reported event in one
// transaction, or recognises an exact repeat. It returns ErrConflict when a
// key is reused with different content.
func (s *Store) Accept(ctx context.Context, sub Submission) (Accepted, error) {
	if prior, found, err := s.findPrior(ctx, sub); err != nil || found {
		return prior, err
	}
	id := uuid.Must(uuid.NewV7()).String()
	inserted := false
	err := s.outbox.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// The incident's key is made inside the transaction that stores
		// the notice: one commit for both, and no second pooled
		// connection for the transaction to wait on.
		sealedBody, err := s.seal(ctx, s.sealer.In(tx), id, sub.Incident)
		if err != nil {
			return err
		}
		if err := s.insert(ctx, tx, id, sub, sealedBody); err != nil {
			return err
		}
		inserted = true
		return nil
	})
	if err != nil && inserted && unanswered(err) {
		return Accepted{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	if pgdb.IsUniqueViolation(err) {
		// A twin committed between our look-up and insert: answer as for
		// any repeat.
		prior, found, err := s.findPrior(ctx, sub)
		if err == nil && !found {
			err = errors.New("unique violation without a prior incident")
		}
		return prior, err
	}
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{IncidentID: id, New: true}, nil
}

// unanswered reports whether a transaction whose statements all succeeded
// failed without PostgreSQL refusing it, after the commit may have been
// sent: its outcome is then unknown. Only an answer from the server that
// refuses the transaction is definite. A lost connection leaves it unknown,
// and so does a server going down (a FATAL or PANIC error, or the
// operator-intervention and connection-exception classes 57 and 08), since
// the commit may have been made durable just before. pgconn.SafeToRetry is
// not trusted here: a commit that reached a server killed before it could
// answer has been seen reported as "conn closed", which pgconn counts as
// never sent.
func unanswered(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC" ||
			strings.HasPrefix(pgErr.Code, "57") || strings.HasPrefix(pgErr.Code, "08")
	}
	return true
}

func (s *Store) findPrior(ctx context.Context, sub Submission) (Accepted, bool, error) {
	var id, hash, force, ref string
	err := s.pool.QueryRow(ctx, `SELECT incident_id::text, content_hash, force_code, police_reference
		FROM intake.incidents
		WHERE force_code = $1 AND (police_reference = $2 OR idempotency_key = $3)
		ORDER BY (force_code = $1 AND police_reference = $2) DESC LIMIT 1`,
		sub.Incident.ForceCode, sub.Incident.PoliceReference, nullable(sub.IdempotencyKey)).Scan(&id, &hash, &force, &ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return Accepted{}, false, nil
	}
	if err != nil {
		return Accepted{}, false, fmt.Errorf("looking up prior incident: %w", err)
	}
	if hash != sub.ContentHash || force != sub.Incident.ForceCode || ref != sub.Incident.PoliceReference {
		return Accepted{IncidentID: id}, true, ErrConflict
	}
	return Accepted{IncidentID: id}, true, nil
}

func (s *Store) seal(ctx context.Context, sealer *sealed.Sealer, id string, incident *ppn.Incident) ([]byte, error) {
	body, err := json.Marshal(incident)
	if err != nil {
		return nil, fmt.Errorf("encoding incident: %w", err)
	}
	if body, err = sealer.Seal(ctx, id, ppnPurpose, body); err != nil {
		return nil, fmt.Errorf("sealing incident: %w", err)
	}
	return body, nil
}

func (s *Store) insert(ctx context.Context, tx pgx.Tx, id string, sub Submission, body []byte) error {
	_, err := tx.Exec(ctx, `INSERT INTO intake.incidents
		(incident_id, force_code, police_reference, idempotency_key, content_hash, ppn_sealed, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, sub.Incident.ForceCode, sub.Incident.PoliceReference, nullable(sub.IdempotencyKey),
		sub.ContentHash, body, sub.ReceivedAt)
	if err != nil {
		return fmt.Errorf("inserting incident: %w", err)
	}
	e, err := cloudevent.New(cloudevent.Spec{
		ID: cloudevent.DeriveID(id, string(events.IncidentReported)), Type: events.IncidentReported,
		Source: events.SourceIntake, Subject: id, IncidentID: id, Actor: "police:" + sub.Incident.ForceCode,
		Time: sub.ReceivedAt,
		Data: events.IncidentReportedData{IncidentID: id, ReceivedAt: sub.ReceivedAt, Incident: *sub.Incident},
	})
	if err != nil {
		return err
	}
	subject, _ := events.Subject(events.IncidentReported, "")
	return s.outbox.Enqueue(ctx, tx, subject, e)
}

// StatusShredded is a Record's status once its retention ended and its
// personal data was destroyed.
const StatusShredded = "shredded"

// Record is a stored incident.
type Record struct {
	IncidentID string       `json:"incident_id"`
	Status     string       `json:"status"`
	ReceivedAt time.Time    `json:"received_at"`
	Incident   ppn.Incident `json:"incident"`
}

// Get returns the incident with id.
func (s *Store) Get(ctx context.Context, id string) (Record, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Record{}, ErrNotFound
	}
	var rec Record
	var body, sealedBody []byte
	err := s.pool.QueryRow(ctx, `SELECT incident_id::text, received_at, force_code, police_reference, ppn, ppn_sealed
		FROM intake.incidents WHERE incident_id = $1`, id).
		Scan(&rec.IncidentID, &rec.ReceivedAt, &rec.Incident.ForceCode, &rec.Incident.PoliceReference, &body, &sealedBody)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading incident: %w", err)
	}
	if sealedBody != nil {
		body, err = s.sealer.Open(ctx, id, ppnPurpose, sealedBody)
		if errors.Is(err, sealed.ErrShredded) {
			// Retention ended: only the identifiers kept in clear remain.
			rec.Status = StatusShredded
			return rec, nil
		}
		if err != nil {
			return Record{}, fmt.Errorf("opening incident: %w", err)
		}
	}
	if err := json.Unmarshal(body, &rec.Incident); err != nil {
		return Record{}, fmt.Errorf("decoding stored incident: %w", err)
	}
	rec.Status = "accepted"
	return rec, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Package retention ends the life of each incident's personal data on the
// retention policy's schedule (pkg/retention): it finds the incidents due,
// leaves those on legal hold, and shreds the rest exactly once, destroying
// their data key (pkg/sealed) and recording incident.shredded in the ledger
// in the same transaction. The ledger's chain covers only ciphertext and
// clear metadata, so it still verifies afterwards, and the audit
// projections, which hold no personal data, are unchanged.
package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	policy "github.com/lantern-safeguarding/lantern/pkg/retention"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/retention/migrations"
)

// Migrate creates the holds and shreddings tables in the ledger's schema.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgdb.MigrateTable(ctx, pool, auditlog.Schema, "retention_db_version", migrations.FS)
}

// Scheduler shreds due incidents.
type Scheduler struct {
	Pool   *pgxpool.Pool
	Sealer *sealed.Sealer
	Policy policy.Policy
	Clock  clock.Clock
}

// Due is one incident whose retention has ended.
type Due struct {
	IncidentID     string
	LocalAuthority string
	DueAt          time.Time
	// Hold is the reason it is kept, when it is on legal hold.
	Hold string
}

// candidate is what the audit projection says of an incident not yet
// shredded.
type candidate struct {
	id, la     string
	received   time.Time
	open       int
	lastClosed *time.Time
}

// Plan lists the incidents due at the clock's now, oldest first, with
// those on hold marked.
func (s *Scheduler) Plan(ctx context.Context) ([]Due, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT i.incident_id, i.local_authority, i.received_at,
		       count(n.notification_id) FILTER (WHERE n.acknowledged_at IS NULL AND n.failed_at IS NULL),
		       max(greatest(n.acknowledged_at, n.failed_at)),
		       coalesce((SELECT h.reason FROM ledger.holds h WHERE h.incident_id = i.incident_id AND h.released_at IS NULL), '')
		FROM audit.incidents i
		LEFT JOIN audit.notifications n ON n.incident_id = i.incident_id
		WHERE NOT EXISTS (SELECT 1 FROM ledger.shreddings s WHERE s.incident_id = i.incident_id)
		GROUP BY i.incident_id, i.local_authority, i.received_at
		ORDER BY i.received_at, i.incident_id`)
	if err != nil {
		return nil, fmt.Errorf("planning retention: %w", err)
	}
	defer rows.Close()
	now := s.Clock.Now()
	var out []Due
	for rows.Next() {
		var c candidate
		var hold string
		if err := rows.Scan(&c.id, &c.la, &c.received, &c.open, &c.lastClosed, &hold); err != nil {
			return nil, fmt.Errorf("planning retention: %w", err)
		}
		if due := s.dueAt(c); !due.After(now) {
			out = append(out, Due{IncidentID: c.id, LocalAuthority: c.la, DueAt: due, Hold: hold})
		}
	}
	return out, rows.Err()
}

// dueAt is when c's personal data must go: the message-body period after
// the last notice was acknowledged or gave up, or, while any notice is
// still open, the unacknowledged period after the report.
func (s *Scheduler) dueAt(c candidate) time.Time {
	p := s.Policy.For(c.la)
	if c.open > 0 || c.lastClosed == nil {
		return c.received.Add(p.Unacknowledged)
	}
	return c.lastClosed.Add(p.MessageBodies)
}

// Result counts what a run did.
type Result struct {
	Due, Shredded, Held int
}

// Run shreds every due incident not on hold. progress, if not nil, is told
// after each incident. A dry run only counts.
func (s *Scheduler) Run(ctx context.Context, dry bool, progress func(done, total int)) (Result, error) {
	due, err := s.Plan(ctx)
	if err != nil {
		return Result{}, err
	}
	res := Result{Due: len(due)}
	for i, d := range due {
		switch {
		case d.Hold != "":
			res.Held++
		case dry:
		default:
			did, err := s.shred(ctx, d)
			if err != nil {
				return res, err
			}
			if did {
				res.Shredded++
			}
		}
		if progress != nil {
			progress(i+1, len(due))
		}
	}
	return res, nil
}

// ShreddedType is the ledger entry recorded when an incident is shredded.
const ShreddedType = events.IncidentShredded

// shred destroys d's key, records the shredding and appends
// incident.shredded to the ledger, in one transaction: all or none.
func (s *Scheduler) shred(ctx context.Context, d Due) (bool, error) {
	now := s.Clock.Now().UTC()
	did := false
	err := pgdb.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := lockIncident(ctx, tx, d.IncidentID); err != nil {
			return err
		}
		var held bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ledger.holds WHERE incident_id = $1 AND released_at IS NULL)`,
			d.IncidentID).Scan(&held); err != nil || held {
			return err
		}
		e, err := cloudevent.New(cloudevent.Spec{
			ID: cloudevent.DeriveID(d.IncidentID, string(ShreddedType)), Type: ShreddedType, Source: events.SourceLedger,
			Subject: d.IncidentID, IncidentID: d.IncidentID, Actor: "service:ledger", Time: now,
			Data: events.IncidentShreddedData{IncidentID: d.IncidentID, DueAt: d.DueAt.UTC(), ShreddedAt: now,
				RetentionPolicy: s.Policy.Version},
		})
		if err != nil {
			return err
		}
		entry, err := auditlog.EntryOf(e, events.SubjectIncidentShredded, now)
		if err != nil {
			return err
		}
		entry, added, err := projection.AppendAndProject(ctx, tx, entry)
		if err != nil || !added {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO ledger.shreddings (incident_id, due_at, shredded_at, policy, entry_seq)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, d.IncidentID, d.DueAt, now, s.Policy.Version, entry.Seq)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := s.Sealer.Shred(ctx, tx, d.IncidentID, now); err != nil {
			return err
		}
		did = true
		return nil
	})
	return did, err
}

// Roles that may place a legal hold.
var holdRoles = map[string]bool{"mash_manager": true, "auditor": true}

// ErrNotAllowed is returned when someone without the right role asks for
// a hold.
var ErrNotAllowed = errors.New("only a MASH manager or an auditor may hold an incident")

// ErrShreddedAlready is returned for a hold asked on an incident whose
// personal data is already gone.
var ErrShreddedAlready = errors.New("the incident was shredded already: there is nothing left to hold")

// Hold keeps incidentID's personal data past its retention until
// released, recording who asked, as what, why and when. It takes the
// incident's lock, as a shredding does, so that a hold and a shredding
// of the same incident never both succeed.
func Hold(ctx context.Context, pool *pgxpool.Pool, incidentID, by, role, reason string, at time.Time) error {
	if !holdRoles[role] {
		return ErrNotAllowed
	}
	if reason == "" {
		return errors.New("a hold needs a reason")
	}
	return pgdb.InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := lockIncident(ctx, tx, incidentID); err != nil {
			return err
		}
		var gone bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ledger.shreddings WHERE incident_id = $1)`,
			incidentID).Scan(&gone); err != nil {
			return err
		}
		if gone {
			return ErrShreddedAlready
		}
		_, err := tx.Exec(ctx, `INSERT INTO ledger.holds (incident_id, held_by, role, reason, held_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (incident_id) WHERE released_at IS NULL DO NOTHING`,
			incidentID, by, role, reason, at)
		return err
	})
}

// lockIncident serialises a hold and a shredding of one incident until tx
// ends.
func lockIncident(ctx context.Context, tx pgx.Tx, incidentID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 9))`, incidentID)
	return err
}

// Release ends incidentID's hold; the record of it stays.
func Release(ctx context.Context, pool *pgxpool.Pool, incidentID, by string, at time.Time) error {
	_, err := pool.Exec(ctx, `UPDATE ledger.holds SET released_by = $2, released_at = $3
		WHERE incident_id = $1 AND released_at IS NULL`, incidentID, by, at)
	return err
}

// Package store keeps the router's decisions, the cases it acts on when the
// MASH's triage arrives, the identity keys it counts repeat incidents with,
// and its outbox, all in the router schema.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
	"github.com/lantern-safeguarding/lantern/services/router/migrations"
)

// Schema is the router's PostgreSQL schema.
const Schema = "router"

// Store is the router's persistence.
type Store struct {
	pool   *pgxpool.Pool
	outbox *outbox.Store
	// sealer seals the personal fields of each kept case.
	sealer *sealed.Sealer
}

var _ routing.Store = (*Store)(nil)

// New returns a store on pool that seals each case with its incident's key.
func New(pool *pgxpool.Pool, sealer *sealed.Sealer) *Store {
	return &Store{pool: pool, outbox: outbox.New(Schema).WithSealer(sealer), sealer: sealer}
}

// Outbox is the router's outbox, for the relay.
func (s *Store) Outbox() *outbox.Store { return s.outbox }

// Batch lets the router's consumer route up to size incidents (0: bus's
// default) in one transaction, in stream order, so that each incident's
// history counts the ones routed before it in the batch.
func (s *Store) Batch(size int) bus.Batch {
	return bus.Batch{Size: size, DB: s.pool, Seen: s.outbox.Seen(routing.Consumer)}
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	return s.outbox.MigrateService(ctx, s.pool, migrations.FS)
}

// History counts, for each child and for the incident's pairs of adults,
// the other incidents recorded within months either side of occurredAt. A
// child with an NHS number matches earlier records of that number, and
// name-only records of a child whose NHS number was not known; a child
// without one matches on name and date of birth alone.
//
// Inside a batch it reads in the batch's transaction, which holds the
// incidents routed before this one in the batch.
func (s *Store) History(ctx context.Context, q routing.HistoryQuery) (routing.History, error) {
	db, ok := pgdb.Q(ctx, s.pool).(batchSender)
	if !ok {
		db = s.pool
	}
	return countHistory(ctx, db, q)
}

// batchSender is a pool or a transaction.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func countHistory(ctx context.Context, db batchSender, q routing.HistoryQuery) (routing.History, error) {
	h := routing.History{ChildIncidents: map[string]int{}}
	incidentID, ids := q.IncidentID, q.IDs
	from, to := q.OccurredAt.AddDate(0, -q.Months, 0), q.OccurredAt.AddDate(0, q.Months, 0)
	// Every count goes in one round trip.
	batch := &pgx.Batch{}
	for _, c := range ids.Children {
		if c.NHS == "" && c.Name == "" {
			continue
		}
		batch.Queue(`SELECT count(DISTINCT incident_id) FROM router.identity_keys
			WHERE incident_id <> $1 AND occurred_at BETWEEN $2 AND $3
			AND ((key_kind = 'child_nhs' AND key_hash = $4)
			  OR (key_kind = 'child_name' AND key_hash = $5 AND ($4 = '' OR NOT nhs_known)))`,
			incidentID, from, to, c.NHS, c.Name).QueryRow(func(row pgx.Row) error {
			var n int
			if err := row.Scan(&n); err != nil {
				return fmt.Errorf("counting a child's earlier incidents: %w", err)
			}
			h.ChildIncidents[c.PersonID] = n
			return nil
		})
	}
	if len(ids.Pairs) > 0 {
		batch.Queue(`SELECT coalesce(max(n), 0) FROM (
			SELECT count(DISTINCT incident_id) AS n FROM router.identity_keys
			WHERE key_kind = 'pair' AND key_hash = ANY($4) AND incident_id <> $1 AND occurred_at BETWEEN $2 AND $3
			GROUP BY key_hash) AS per_pair`, incidentID, from, to, ids.Pairs).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&h.SamePartiesIncidents); err != nil {
				return fmt.Errorf("counting the same parties' earlier incidents: %w", err)
			}
			return nil
		})
	}
	if batch.Len() == 0 {
		return h, nil
	}
	if err := db.SendBatch(ctx, batch).Close(); err != nil {
		return routing.History{}, fmt.Errorf("counting earlier incidents: %w", err)
	}
	return h, nil
}

// RecordIncident stores the case, the identity keys and the decisions of
// one incident.reported event, and the notification.requested events
// announcing them, in one transaction. It does nothing if the event was
// recorded before. Everything after the claim goes to PostgreSQL in two
// round trips, whatever the number of children and notices: the router
// handles incidents one at a time, so its rate is one over the time a
// transaction takes.
//
// Two incidents of one family routed at once would each miss the other, so
// the transaction locks the family's identity keys and counts the history
// again under the lock: if it moved since seen was read, nothing is
// recorded and routing.ErrHistoryChanged tells the caller to decide again.
func (s *Store) RecordIncident(ctx context.Context, consumer, eventID string, q routing.HistoryQuery, seen routing.History, out routing.Outcome) error {
	return s.outbox.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		first, err := s.outbox.Claim(ctx, tx, consumer, eventID)
		if err != nil || !first {
			return err
		}
		if err := lockFamily(ctx, tx, q.IDs); err != nil {
			return err
		}
		now, err := countHistory(ctx, tx, q)
		if err != nil {
			return err
		}
		if !sameHistory(now, seen) {
			return routing.ErrHistoryChanged
		}
		batch := &pgx.Batch{}
		if err := queueCase(ctx, s.sealer.In(tx), batch, out.Case, out.PolicyVersion); err != nil {
			return err
		}
		queueIdentities(batch, out.Case.IncidentID, q.OccurredAt, q.IDs)
		return s.recordDecisions(ctx, tx, batch, out)
	})
}

// RecordTriage stores the decisions of one triage.decided event and their
// events, once.
func (s *Store) RecordTriage(ctx context.Context, consumer, eventID string, out routing.Outcome) error {
	return s.outbox.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		first, err := s.outbox.Claim(ctx, tx, consumer, eventID)
		if err != nil || !first {
			return err
		}
		return s.recordDecisions(ctx, tx, &pgx.Batch{}, out)
	})
}

func queueCase(ctx context.Context, sealer *sealed.Sealer, batch *pgx.Batch, c routing.Case, version string) error {
	body, err := json.Marshal(c.Incident)
	if err != nil {
		return fmt.Errorf("encoding the case: %w", err)
	}
	// The case keeps its shape in jsonb, its personal strings sealed.
	if body, err = sealer.SealFields(ctx, c.IncidentID, body); err != nil {
		return fmt.Errorf("sealing the case: %w", err)
	}
	repeat := c.RepeatChildren
	if repeat == nil {
		repeat = []string{}
	}
	var facts []byte
	if c.Facts != nil {
		if facts, err = json.Marshal(c.Facts); err != nil {
			return fmt.Errorf("encoding the case's facts: %w", err)
		}
	}
	batch.Queue(`INSERT INTO router.cases
		(incident_id, occurred_at, received_at, local_authority_code, default_rag, repeat_children, incident, policy_version, recorded_at, facts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9) ON CONFLICT (incident_id) DO NOTHING`,
		c.IncidentID, c.Incident.OccurredAt, c.ReceivedAt, c.Incident.LocalAuthorityCode, string(c.DefaultRAG),
		repeat, body, version, facts)
	return nil
}

// lockFamily takes a transaction-scoped advisory lock on each identity key
// of the incident, in a fixed order so that two families sharing keys
// cannot deadlock.
func lockFamily(ctx context.Context, tx pgx.Tx, ids routing.Identities) error {
	var keys []string
	ids.EachKey(func(kind, hash string, _ bool) { keys = append(keys, kind+":"+hash) })
	slices.Sort(keys)
	keys = slices.Compact(keys)
	batch := &pgx.Batch{}
	for _, k := range keys {
		batch.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, k)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("locking the family's identity keys: %w", err)
	}
	return nil
}

func sameHistory(a, b routing.History) bool {
	return a.SamePartiesIncidents == b.SamePartiesIncidents && maps.Equal(a.ChildIncidents, b.ChildIncidents)
}

func queueIdentities(batch *pgx.Batch, incidentID string, occurredAt time.Time, ids routing.Identities) {
	ids.EachKey(func(kind, hash string, nhsKnown bool) {
		batch.Queue(`INSERT INTO router.identity_keys (key_kind, key_hash, incident_id, occurred_at, nhs_known)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, kind, hash, incidentID, occurredAt, nhsKnown)
	})
}

// recordDecisions sends batch with one notice row per decision added, then
// enqueues the events of the notices that were new: a notice recorded
// before (same incident, rule and recipient) is not announced again.
func (s *Store) recordDecisions(ctx context.Context, tx pgx.Tx, batch *pgx.Batch, out routing.Outcome) error {
	inserted := make([]bool, len(out.Decisions))
	for i, d := range out.Decisions {
		queueDecision(batch, d, out.PolicyDigest).Exec(func(tag pgconn.CommandTag) error {
			inserted[i] = tag.RowsAffected() == 1
			return nil
		})
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("recording the decisions: %w", err)
	}
	var outgoing []outbox.Outgoing
	for i, d := range out.Decisions {
		if !inserted[i] {
			continue
		}
		o, err := requestEvent(d)
		if err != nil {
			return err
		}
		outgoing = append(outgoing, o)
	}
	return s.outbox.EnqueueAll(ctx, tx, outgoing)
}

func queueDecision(batch *pgx.Batch, d routing.Decision, digest string) *pgx.QueuedQuery {
	n := d.Request
	var sendBy *time.Time
	if !d.SendBy.IsZero() {
		sendBy = &d.SendBy
	}
	return batch.Queue(`INSERT INTO router.notifications
		(notification_id, incident_id, rule_id, policy_version, recipient_kind, recipient_id, due_at, requested_at, send_by, policy_digest)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (notification_id) DO NOTHING`,
		n.NotificationID, n.IncidentID, n.RuleID, n.PolicyVersion, string(n.Recipient.Kind), n.Recipient.ID,
		n.DueAt, n.RequestedAt, sendBy, digest)
}

// requestEvent is the notification.requested announcing a decision.
func requestEvent(d routing.Decision) (outbox.Outgoing, error) {
	n := d.Request
	e, err := cloudevent.New(cloudevent.Spec{
		ID: cloudevent.DeriveID(n.NotificationID, string(events.NotificationRequested)), Type: events.NotificationRequested,
		Source: events.SourceRouter, Subject: n.NotificationID, IncidentID: n.IncidentID, Actor: "service:router",
		Time: n.RequestedAt, Data: n,
	})
	if err != nil {
		return outbox.Outgoing{}, err
	}
	subject, err := events.Subject(events.NotificationRequested, n.Recipient.Kind)
	if err != nil {
		return outbox.Outgoing{}, err
	}
	return outbox.Outgoing{Subject: subject, Event: e}, nil
}

// Case returns the case kept for an incident.
func (s *Store) Case(ctx context.Context, incidentID string) (routing.Case, bool, error) {
	var (
		c     routing.Case
		rag   string
		body  []byte
		facts []byte
	)
	err := pgdb.Q(ctx, s.pool).QueryRow(ctx, `SELECT incident_id::text, received_at, default_rag, repeat_children, incident, facts
		FROM router.cases WHERE incident_id = $1`, incidentID).Scan(&c.IncidentID, &c.ReceivedAt, &rag, &c.RepeatChildren, &body, &facts)
	if errors.Is(err, pgx.ErrNoRows) {
		return routing.Case{}, false, nil
	}
	if err != nil {
		return routing.Case{}, false, fmt.Errorf("reading the case: %w", err)
	}
	c.DefaultRAG = policy.RAG(rag)
	if body, _, err = s.sealer.OpenFields(ctx, c.IncidentID, body); err != nil {
		return routing.Case{}, false, fmt.Errorf("opening the case: %w", err)
	}
	var in ppn.Incident
	if err := json.Unmarshal(body, &in); err != nil {
		return routing.Case{}, false, fmt.Errorf("decoding the case: %w", err)
	}
	c.Incident = in
	if facts != nil {
		c.Facts = &policy.Facts{}
		if err := json.Unmarshal(facts, c.Facts); err != nil {
			return routing.Case{}, false, fmt.Errorf("decoding the case's facts: %w", err)
		}
	}
	return c, true, nil
}

package chaos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// Checker compares what the clients were told with what PostgreSQL holds:
// the intake's incidents, the router's decisions, the inboxes and the
// ledger.
type Checker struct {
	Pool *pgxpool.Pool
}

var (
	reportedType  = string(events.IncidentReported)
	requestedType = string(events.NotificationRequested)
	deliveredType = string(events.NotificationDelivered)
)

// Lost counts, for one run's submissions, acknowledged notices that were
// not stored under the id the client was given, stored notices missing
// from the router or the ledger, and decided notifications missing from an
// inbox or from the ledger, per recipient kind.
func (c *Checker) Lost(ctx context.Context, subs []*Submission) (Lost, error) {
	stored, err := c.storedIDs(ctx, subs)
	if err != nil {
		return Lost{}, err
	}
	l := Lost{ByKind: map[string]KindDelivery{}}
	ids := make([]string, 0, len(stored))
	for _, id := range stored {
		ids = append(ids, id)
	}
	for _, s := range subs {
		id, ok := stored[s.Ref]
		switch {
		case s.Outcome == OK && !ok:
			l.AckedNotStored++
		case s.Outcome == OK && id != s.IncidentID:
			l.AckedWrongID++
		case s.Outcome == Fail && ok:
			l.FailedButStored++
		}
	}
	if err := c.Pool.QueryRow(ctx, `WITH run AS (SELECT unnest($1::uuid[]) AS id) SELECT
		count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.incident_id = run.id::text AND e.event_type = $2)),
		count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM router.cases c WHERE c.incident_id = run.id))
		FROM run`, ids, reportedType).Scan(&l.StoredNotLedger, &l.StoredNotRouted); err != nil {
		return Lost{}, fmt.Errorf("counting incidents missing downstream: %w", err)
	}
	return l, c.lostDeliveries(ctx, ids, &l)
}

// storedIDs maps each submission's police reference to the incident stored
// under it.
func (c *Checker) storedIDs(ctx context.Context, subs []*Submission) (map[string]string, error) {
	refs := make([]string, len(subs))
	for i, s := range subs {
		refs[i] = s.Ref
	}
	rows, err := c.Pool.Query(ctx, `SELECT police_reference, incident_id::text FROM intake.incidents
		WHERE force_code = $1 AND police_reference = ANY($2)`, ForceCode, refs)
	if err != nil {
		return nil, fmt.Errorf("reading stored incidents: %w", err)
	}
	stored := map[string]string{}
	var ref, id string
	_, err = pgx.ForEachRow(rows, []any{&ref, &id}, func() error { stored[ref] = id; return nil })
	if err != nil {
		return nil, fmt.Errorf("reading stored incidents: %w", err)
	}
	return stored, nil
}

func (c *Checker) lostDeliveries(ctx context.Context, ids []string, l *Lost) error {
	rows, err := c.Pool.Query(ctx, `WITH run AS (SELECT unnest($1::uuid[]) AS id)
		SELECT n.recipient_kind, count(*),
		count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM delivery.inbox d WHERE d.notification_id = n.notification_id)),
		count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.incident_id = n.incident_id::text
			AND e.subject = n.notification_id::text AND e.event_type = $2)),
		count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.incident_id = n.incident_id::text
			AND e.subject = n.notification_id::text AND e.event_type = $3))
		FROM router.notifications n JOIN run ON n.incident_id = run.id GROUP BY 1`, ids, deliveredType, requestedType)
	if err != nil {
		return fmt.Errorf("counting deliveries: %w", err)
	}
	var kind string
	var k KindDelivery
	var requestMissing int
	_, err = pgx.ForEachRow(rows, []any{&kind, &k.Decided, &k.NotInInbox, &k.NotLedgered, &requestMissing}, func() error {
		l.ByKind[kind] = k
		l.RequestNotLedger += requestMissing
		return nil
	})
	if err != nil {
		return fmt.Errorf("counting deliveries: %w", err)
	}
	return nil
}

// duplicateQueries each count groups of rows that record one effect more
// than once, across the whole database.
var duplicateQueries = []struct {
	name  string
	field func(*Duplicates) *int
	query string
}{
	{"incidents", func(d *Duplicates) *int { return &d.Incidents },
		`SELECT count(*) FROM (SELECT 1 FROM intake.incidents GROUP BY force_code, police_reference HAVING count(*) > 1) x`},
	{"notifications", func(d *Duplicates) *int { return &d.Notifications },
		`SELECT count(*) FROM (SELECT 1 FROM router.notifications GROUP BY incident_id, rule_id, recipient_kind, recipient_id HAVING count(*) > 1) x`},
	{"inbox", func(d *Duplicates) *int { return &d.Inbox },
		`SELECT count(*) FROM (SELECT 1 FROM delivery.inbox GROUP BY incident_id, rule_id, recipient_kind, recipient_id HAVING count(*) > 1) x`},
	{"ledger event ids", func(d *Duplicates) *int { return &d.LedgerEvents },
		`SELECT count(*) FROM (SELECT 1 FROM ledger.entries GROUP BY event_id HAVING count(*) > 1) x`},
	{"ledger facts", func(d *Duplicates) *int { return &d.LedgerFacts },
		`SELECT count(*) FROM (SELECT 1 FROM ledger.entries WHERE event_type IN ('` + reportedType + `', '` + requestedType + `', '` + deliveredType + `')
		GROUP BY event_type, CASE WHEN event_type = '` + reportedType + `' THEN incident_id ELSE subject END HAVING count(*) > 1) x`},
	{"outbox", func(d *Duplicates) *int { return &d.Outbox },
		`SELECT (SELECT count(*) FROM (SELECT 1 FROM intake.outbox GROUP BY event_id HAVING count(*) > 1) a)
		+ (SELECT count(*) FROM (SELECT 1 FROM router.outbox GROUP BY event_id HAVING count(*) > 1) b)
		+ (SELECT count(*) FROM (SELECT 1 FROM delivery.outbox GROUP BY event_id HAVING count(*) > 1) c)`},
}

// DuplicateEffects counts effects recorded more than once anywhere: the
// same incident, decision, inbox row or ledger fact twice.
func (c *Checker) DuplicateEffects(ctx context.Context) (Duplicates, error) {
	var d Duplicates
	for _, q := range duplicateQueries {
		if err := c.Pool.QueryRow(ctx, q.query).Scan(q.field(&d)); err != nil {
			return Duplicates{}, fmt.Errorf("counting duplicate %s: %w", q.name, err)
		}
	}
	return d, nil
}

// VerifyLedger recomputes the whole hash chain from the first entry, checks
// that sequence numbers run from 1 without gaps, and that the head row
// names the last entry.
//
// It reads the entries and the head in one snapshot, so that a ledger still
// appending is verified as it stood at one moment.
func (c *Checker) VerifyLedger(ctx context.Context) (LedgerCheck, error) {
	var v chainVerifier
	err := pgx.BeginTxFunc(ctx, c.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, prev_hash, hash, sha256(event) FROM ledger.entries ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("reading the ledger: %w", err)
		}
		var e chainEntry
		if _, err := pgx.ForEachRow(rows, []any{&e.seq, &e.prev, &e.hash, &e.bodySum}, func() error { v.add(e); return nil }); err != nil {
			return fmt.Errorf("reading the ledger: %w", err)
		}
		var headSeq int64
		var headHash []byte
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM ledger.head`).Scan(&headSeq, &headHash); err != nil {
			return fmt.Errorf("reading the ledger head: %w", err)
		}
		v.check.HeadMatches = headSeq == v.lastSeq && bytes.Equal(headHash, v.lastHash)
		return nil
	})
	return v.check, err
}

type chainEntry struct {
	seq        int64
	prev, hash []byte
	bodySum    []byte
}

// chainVerifier walks the ledger in sequence order.
type chainVerifier struct {
	check    LedgerCheck
	lastSeq  int64
	lastHash []byte
}

func (v *chainVerifier) add(e chainEntry) {
	if v.lastHash == nil {
		v.lastHash = make([]byte, sha256.Size)
	}
	v.check.Entries++
	v.check.Gaps += e.seq - v.lastSeq - 1
	if v.check.FirstBadSeq == 0 && (!bytes.Equal(e.prev, v.lastHash) || !bytes.Equal(e.hash, chainHash(e.prev, e.seq, e.bodySum))) {
		v.check.FirstBadSeq = e.seq
	}
	v.lastSeq, v.lastHash = e.seq, e.hash
}

// chainHash is the ledger's link: SHA-256 over the previous hash, the
// sequence number (8 bytes, big-endian) and the SHA-256 of the event.
func chainHash(prev []byte, seq int64, bodySum []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(seq))
	h.Write(n[:])
	h.Write(bodySum)
	return h.Sum(nil)
}

// Recorded returns when the ledger recorded each entry of the incidents
// the run's clients were given.
func (c *Checker) Recorded(ctx context.Context, subs []*Submission) ([]Recorded, error) {
	var ids []string
	for _, s := range subs {
		if s.IncidentID != "" {
			ids = append(ids, s.IncidentID)
		}
	}
	rows, err := c.Pool.Query(ctx, `SELECT incident_id, event_type = $2, recorded_at FROM ledger.entries
		WHERE incident_id = ANY($1)`, ids, deliveredType)
	if err != nil {
		return nil, fmt.Errorf("reading ledger times: %w", err)
	}
	var out []Recorded
	var r Recorded
	if _, err := pgx.ForEachRow(rows, []any{&r.IncidentID, &r.Delivered, &r.At}, func() error { out = append(out, r); return nil }); err != nil {
		return nil, fmt.Errorf("reading ledger times: %w", err)
	}
	return out, nil
}

// Unfinished counts work Lantern still owes anywhere in the database:
// stored incidents not yet routed or recorded, decided notifications not
// yet in an inbox or recorded, and outbox rows not yet published. Zero
// means everything accepted has gone all the way through.
func (c *Checker) Unfinished(ctx context.Context) (int, error) {
	var n int
	err := c.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM intake.incidents i WHERE NOT EXISTS (SELECT 1 FROM router.cases c WHERE c.incident_id = i.incident_id))
		+ (SELECT count(*) FROM intake.incidents i WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e
			WHERE e.incident_id = i.incident_id::text AND e.event_type = $1))
		+ (SELECT count(*) FROM router.notifications n WHERE NOT EXISTS (SELECT 1 FROM delivery.inbox d WHERE d.notification_id = n.notification_id))
		+ (SELECT count(*) FROM router.notifications n WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e
			WHERE e.incident_id = n.incident_id::text AND e.subject = n.notification_id::text AND e.event_type = $2))
		+ (SELECT count(*) FROM delivery.inbox d WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e
			WHERE e.incident_id = d.incident_id::text AND e.subject = d.notification_id::text AND e.event_type = $3))
		+ (SELECT count(*) FROM intake.outbox WHERE published_at IS NULL)
		+ (SELECT count(*) FROM router.outbox WHERE published_at IS NULL)
		+ (SELECT count(*) FROM delivery.outbox WHERE published_at IS NULL)`,
		reportedType, requestedType, deliveredType).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting unfinished work: %w", err)
	}
	return n, nil
}

// Postgres fills the PostgreSQL half of the configuration.
func (c *Checker) Postgres(ctx context.Context, cfg *Config) error {
	err := c.Pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('synchronous_commit'),
		current_setting('fsync'), current_setting('full_page_writes'), current_setting('data_checksums')`).
		Scan(&cfg.PostgresVersion, &cfg.SynchronousCommit, &cfg.Fsync, &cfg.FullPageWrites, &cfg.DataChecksums)
	if err != nil {
		return fmt.Errorf("reading PostgreSQL settings: %w", err)
	}
	return nil
}

// NameLost names every loss Lost counts that can be named downstream of
// the intake: each stored notice of the run missing from the router or
// the ledger by incident id, and each decided notification missing from
// an inbox or from the ledger by notification id and recipient kind. It
// returns at most limit names, in a stable order.
func (c *Checker) NameLost(ctx context.Context, subs []*Submission, limit int) ([]string, error) {
	stored, err := c.storedIDs(ctx, subs)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(stored))
	for _, id := range stored {
		ids = append(ids, id)
	}
	rows, err := c.Pool.Query(ctx, `WITH run AS (SELECT unnest($1::uuid[]) AS id)
		SELECT 'incident ' || run.id || ': not routed' FROM run
			WHERE NOT EXISTS (SELECT 1 FROM router.cases c WHERE c.incident_id = run.id)
		UNION ALL SELECT 'incident ' || run.id || ': no incident.reported in the ledger' FROM run
			WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.incident_id = run.id::text AND e.event_type = $2)
		UNION ALL SELECT 'notification ' || n.notification_id || ' (' || n.recipient_kind || '): not in an inbox'
			FROM router.notifications n JOIN run ON n.incident_id = run.id
			WHERE NOT EXISTS (SELECT 1 FROM delivery.inbox d WHERE d.notification_id = n.notification_id)
		UNION ALL SELECT 'notification ' || n.notification_id || ' (' || n.recipient_kind || '): no ' || $3 || ' in the ledger'
			FROM router.notifications n JOIN run ON n.incident_id = run.id
			WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.subject = n.notification_id::text AND e.event_type = $3)
		UNION ALL SELECT 'notification ' || n.notification_id || ' (' || n.recipient_kind || '): no ' || $4 || ' in the ledger'
			FROM router.notifications n JOIN run ON n.incident_id = run.id
			WHERE NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.subject = n.notification_id::text AND e.event_type = $4)
		ORDER BY 1 LIMIT $5`, ids, reportedType, deliveredType, requestedType, limit)
	if err != nil {
		return nil, fmt.Errorf("naming losses: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("naming losses: %w", err)
	}
	return names, nil
}

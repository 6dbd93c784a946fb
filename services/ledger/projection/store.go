package projection

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection/migrations"
)

// Schema is the PostgreSQL schema of the projection tables.
const Schema = "audit"

// Querier reads: a pool, a connection or a transaction.
type Querier = pgdb.Querier

// Writer writes: a connection or a transaction.
type Writer interface {
	Querier
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// Migrate creates or updates the projection tables.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgdb.Migrate(ctx, pool, Schema, migrations.FS)
}

// replaceIncidents makes the stored rows of ids exactly those in s, which
// must hold those incidents' rows only.
func replaceIncidents(ctx context.Context, w Writer, ids []string, s Set) error {
	for _, name := range tableNames {
		if _, err := w.Exec(ctx, `DELETE FROM audit.`+name+` WHERE incident_id = ANY($1)`, ids); err != nil {
			return fmt.Errorf("clearing %s of incidents: %w", name, err)
		}
	}
	return Write(ctx, w, s)
}

// tableNames lists the projection tables in digest order.
var tableNames = []string{"incidents", "steps", "notifications", "inbox", "triage", "breaches", "channels"}

// Write inserts every row of s.
func Write(ctx context.Context, w Writer, s Set) error {
	return firstError(
		copyRows(ctx, w, incidentsTable, s.Incidents),
		copyRows(ctx, w, stepsTable, s.Steps),
		copyRows(ctx, w, notificationsTable, s.Notifications),
		copyRows(ctx, w, inboxTable, s.Inbox),
		copyRows(ctx, w, triageTable, s.Triage),
		copyRows(ctx, w, breachesTable, s.Breaches),
		copyRows(ctx, w, channelsTable, s.Channels),
	)
}

// firstError returns the first failure of calls made in order; each call
// is a closure so that none runs after one has failed.
func firstError(calls ...func() error) error {
	for _, c := range calls {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

func copyRows[T any](ctx context.Context, w Writer, t table[T], rows []T) func() error {
	return func() error {
		if len(rows) == 0 {
			return nil
		}
		src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return values(t.fields(&rows[i])), nil })
		if _, err := w.CopyFrom(ctx, pgx.Identifier{Schema, t.name}, t.columns, src); err != nil {
			return fmt.Errorf("writing %s: %w", t.name, err)
		}
		return nil
	}
}

// Load reads every projection table in canonical order.
func Load(ctx context.Context, q Querier) (Set, error) {
	return LoadWhere(ctx, q, "", nil)
}

// LoadIncident reads the rows of one incident.
func LoadIncident(ctx context.Context, q Querier, incidentID string) (Set, error) {
	return LoadWhere(ctx, q, "incident_id = $1", []any{incidentID})
}

// LoadWhere reads the rows of every table that match where, a condition on
// columns every table has (incident_id), with args.
func LoadWhere(ctx context.Context, q Querier, where string, args []any) (Set, error) {
	var s Set
	err := firstError(
		loadInto(ctx, q, incidentsTable, where, args, &s.Incidents),
		loadInto(ctx, q, stepsTable, where, args, &s.Steps),
		loadInto(ctx, q, notificationsTable, where, args, &s.Notifications),
		loadInto(ctx, q, inboxTable, where, args, &s.Inbox),
		loadInto(ctx, q, triageTable, where, args, &s.Triage),
		loadInto(ctx, q, breachesTable, where, args, &s.Breaches),
		loadInto(ctx, q, channelsTable, where, args, &s.Channels),
	)
	return s, err
}

func loadInto[T any](ctx context.Context, q Querier, t table[T], where string, args []any, out *[]T) func() error {
	return func() error {
		return scanTable(ctx, q, t, where, args, func(r T) error {
			*out = append(*out, r)
			return nil
		})
	}
}

// scanTable streams t's rows matching where, in canonical order, to fn.
func scanTable[T any](ctx context.Context, q Querier, t table[T], where string, args []any, fn func(T) error) error {
	sql := "SELECT " + strings.Join(t.columns, ", ") + " FROM audit." + t.name
	if where != "" {
		sql += " WHERE " + where
	}
	rows, err := q.Query(ctx, sql+" ORDER BY "+t.orderBy(), args...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r T
		if err := rows.Scan(t.fields(&r)...); err != nil {
			return fmt.Errorf("scanning %s: %w", t.name, err)
		}
		normalise(t.fields(&r))
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", t.name, err)
	}
	return nil
}

// ProjectedSeq returns the ledger sequence number the tables are current
// to.
func ProjectedSeq(ctx context.Context, q Querier) (int64, error) {
	var seq int64
	if err := q.QueryRow(ctx, `SELECT seq FROM audit.projected`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("reading projected sequence: %w", err)
	}
	return seq, nil
}

// SetProjectedSeq records that the tables are current to ledger entry seq.
func SetProjectedSeq(ctx context.Context, q Querier, seq int64) error {
	if _, err := q.Exec(ctx, `UPDATE audit.projected SET seq = $1`, seq); err != nil {
		return fmt.Errorf("recording projected sequence: %w", err)
	}
	return nil
}

// LoadRange reads the rows of every incident reported, or with a notice
// requested, at or after from and before to.
func LoadRange(ctx context.Context, q Querier, from, to time.Time) (Set, error) {
	return LoadWhere(ctx, q, `incident_id IN (
		SELECT incident_id FROM audit.notifications WHERE requested_at >= $1 AND requested_at < $2
		UNION SELECT incident_id FROM audit.incidents WHERE received_at >= $1 AND received_at < $2)`,
		[]any{from, to})
}

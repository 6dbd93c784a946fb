// Package reseal seals the personal data a deployment wrote before sealing
// was switched on: the plaintext notices in intake, the router's cases,
// delivery's inbox, the workspace's notices and its people index, and the
// bodies still waiting in each outbox. Every pass touches only values not
// yet sealed, in small transactions holding the rows it changes, so it can
// run while the services serve, be stopped at any point and be run again:
// a second run changes nothing.
//
// The ledger's entries are not rewritten: its chain covers their bytes, so
// a sealed copy would no longer verify. Plain counts the entries still
// holding plaintext personal data so that an operator knows they exist.
package reseal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
)

// batch is how many rows one transaction looks at.
const batch = 100

// Options say what to reseal with.
type Options struct {
	Sealer *sealed.Sealer
	// MatchKey keys the workspace's people index (LANTERN_MATCH_KEY); when
	// empty the index is left alone and reported as skipped.
	MatchKey []byte
	// Progress, if not nil, is told after each batch of a table: the rows
	// looked at so far and the table's row count.
	Progress func(table string, done, total int64)
}

// Table is what one pass did to one table.
type Table struct {
	Name string
	// Rows is how many rows were looked at, Changed how many were
	// rewritten.
	Rows, Changed int64
	// Skipped says why the table was not looked at, when it was not.
	Skipped string
}

// pass is one table's walk: the rows in key order, one batch per
// transaction.
type pass struct {
	name  string
	count string // SQL counting the rows looked at
	// next reads up to batch rows after key (locked FOR UPDATE) and
	// rewrites those holding plaintext, returning the last key seen and
	// how many rows it read and rewrote.
	next func(ctx context.Context, tx pgx.Tx, s *sealed.Sealer, after string) (last string, read, changed int, err error)
}

// Run reseals every table in pool, in turn.
func Run(ctx context.Context, pool *pgxpool.Pool, o Options) ([]Table, error) {
	var out []Table
	for _, p := range passes(o.MatchKey) {
		t, err := p.run(ctx, pool, o)
		out = append(out, t)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (p pass) run(ctx context.Context, pool *pgxpool.Pool, o Options) (Table, error) {
	t := Table{Name: p.name}
	if p.next == nil {
		t.Skipped = "LANTERN_MATCH_KEY is not set"
		return t, nil
	}
	var total int64
	if err := pool.QueryRow(ctx, p.count).Scan(&total); err != nil {
		var pgErr interface{ SQLState() string }
		if errors.As(err, &pgErr) && pgErr.SQLState() == "42P01" { // undefined_table: service not deployed
			t.Skipped = "no such table"
			return t, nil
		}
		return t, fmt.Errorf("%s: %w", p.name, err)
	}
	after := ""
	for {
		var read, changed int
		err := pgdb.InTx(ctx, pool, func(tx pgx.Tx) error {
			var err error
			after, read, changed, err = p.next(ctx, tx, o.Sealer.In(tx), after)
			return err
		})
		if err != nil {
			return t, fmt.Errorf("%s: %w", p.name, err)
		}
		t.Rows += int64(read)
		t.Changed += int64(changed)
		if o.Progress != nil {
			o.Progress(p.name, t.Rows, max(total, t.Rows))
		}
		if read < batch {
			return t, nil
		}
	}
}

func passes(matchKey []byte) []pass {
	ps := []pass{intakeNotices()}
	ps = append(ps,
		documents("router.cases", "router.cases", "incident_id::text", "incident_id::text", "incident"),
		documents("delivery.inbox", "delivery.inbox", "notification_id::text", "incident_id::text", "request"),
		documents("workspace.notices", "workspace.notices", "notification_id::text", "incident_id::text", "notice"))
	ps = append(ps, mashPeople(matchKey))
	// Escalation's outbox is not sealed: its events carry no personal data.
	for _, schema := range []string{"intake", "router", "delivery", "workspace"} {
		ps = append(ps, outbox(schema))
	}
	return ps
}

// nextBatch reads a pass's next batch: query takes the key to start after
// ($1) and the batch size ($2), locks the rows it returns, and its columns
// fill a T's fields in the order they are declared.
func nextBatch[T any](ctx context.Context, tx pgx.Tx, query, after string) ([]T, error) {
	rows, err := tx.Query(ctx, query, after, batch)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[T])
}

// intakeNotices moves each plaintext notice (ppn) into ppn_sealed.
func intakeNotices() pass {
	return pass{name: "intake.incidents", count: `SELECT count(*) FROM intake.incidents`,
		next: func(ctx context.Context, tx pgx.Tx, s *sealed.Sealer, after string) (string, int, int, error) {
			type row struct {
				ID  string
				PPN []byte
			}
			found, err := nextBatch[row](ctx, tx, `SELECT incident_id::text, ppn FROM intake.incidents
				WHERE incident_id::text > $1 ORDER BY incident_id::text LIMIT $2 FOR UPDATE`, after)
			if err != nil {
				return after, 0, 0, err
			}
			changed := 0
			for _, r := range found {
				after = r.ID
				if r.PPN == nil {
					continue
				}
				// The purpose is intake's own ("intake.ppn"); the store
				// opens ppn_sealed with it.
				body, err := s.Seal(ctx, r.ID, "intake.ppn", r.PPN)
				if errors.Is(err, sealed.ErrShredded) {
					// Nothing to keep: a bare version byte reads as
					// shredded, as every sealed copy of it does.
					body, err = []byte{1}, nil
				}
				if err != nil {
					return after, 0, 0, err
				}
				if _, err := tx.Exec(ctx, `UPDATE intake.incidents SET ppn = NULL, ppn_sealed = $2
					WHERE incident_id::text = $1`, r.ID, body); err != nil {
					return after, 0, 0, err
				}
				changed++
			}
			return after, len(found), changed, nil
		}}
}

// documents seals the plaintext personal strings of a jsonb column.
func documents(name, table, key, incident, column string) pass {
	sel := fmt.Sprintf(`SELECT %[2]s, %[3]s, %[4]s::text FROM %[1]s WHERE %[2]s > $1 ORDER BY %[2]s LIMIT $2 FOR UPDATE`,
		table, key, incident, column)
	upd := fmt.Sprintf(`UPDATE %s SET %s = $2::jsonb WHERE %s = $1`, table, column, key)
	return pass{name: name, count: `SELECT count(*) FROM ` + table,
		next: func(ctx context.Context, tx pgx.Tx, s *sealed.Sealer, after string) (string, int, int, error) {
			type row struct{ Key, Incident, Doc string }
			found, err := nextBatch[row](ctx, tx, sel, after)
			if err != nil {
				return after, 0, 0, err
			}
			changed := 0
			for _, r := range found {
				after = r.Key
				doc, n, err := s.SealPlainFields(ctx, r.Incident, []byte(r.Doc))
				if err != nil || n == 0 {
					if err != nil {
						return after, 0, 0, fmt.Errorf("row %s: %w", r.Key, err)
					}
					continue
				}
				if _, err := tx.Exec(ctx, upd, r.Key, string(doc)); err != nil {
					return after, 0, 0, err
				}
				changed++
			}
			return after, len(found), changed, nil
		}}
}

// mashPeople replaces the plaintext values of the workspace's people index
// by their keyed hashes, as the workspace now writes them.
func mashPeople(key []byte) pass {
	p := pass{name: "workspace.mash_people", count: `SELECT count(*) FROM workspace.mash_people`}
	if len(key) == 0 {
		return p
	}
	p.next = func(ctx context.Context, tx pgx.Tx, _ *sealed.Sealer, after string) (string, int, int, error) {
		type row struct {
			Key                    string
			Notification           [16]byte
			Person, Name, DOB, NHS string
		}
		found, err := nextBatch[row](ctx, tx, `SELECT notification_id::text || '/' || person_id, notification_id, person_id,
				name_key, date_of_birth, nhs_number FROM workspace.mash_people
			WHERE notification_id::text || '/' || person_id > $1 ORDER BY 1 LIMIT $2 FOR UPDATE`, after)
		if err != nil {
			return after, 0, 0, err
		}
		changed := 0
		for _, r := range found {
			after = r.Key
			if sealed.IsMatchHash(r.Name) && sealed.IsMatchHash(r.DOB) && sealed.IsMatchHash(r.NHS) {
				continue
			}
			hash := func(kind, v string) string {
				if sealed.IsMatchHash(v) {
					return v
				}
				return sealed.MatchHash(key, kind, v)
			}
			if _, err := tx.Exec(ctx, `UPDATE workspace.mash_people SET name_key = $3, date_of_birth = $4, nhs_number = $5
				WHERE notification_id = $1 AND person_id = $2`, r.Notification, r.Person,
				hash("name", r.Name), hash("date_of_birth", r.DOB), hash("nhs_number", r.NHS)); err != nil {
				return after, 0, 0, err
			}
			changed++
		}
		return after, len(found), changed, nil
	}
	return p
}

// outbox seals the personal strings of the bodies an outbox still holds.
func outbox(schema string) pass {
	table := pgx.Identifier{schema, "outbox"}.Sanitize()
	return pass{name: schema + ".outbox", count: `SELECT count(*) FROM ` + table,
		next: func(ctx context.Context, tx pgx.Tx, s *sealed.Sealer, after string) (string, int, int, error) {
			type row struct {
				Key  string
				Seq  int64
				Body []byte
			}
			found, err := nextBatch[row](ctx, tx, `SELECT lpad(seq::text, 20, '0'), seq, event FROM `+table+`
				WHERE lpad(seq::text, 20, '0') > $1 ORDER BY seq LIMIT $2 FOR UPDATE`, after)
			if err != nil {
				return after, 0, 0, err
			}
			changed := 0
			for _, r := range found {
				after = r.Key
				if len(r.Body) == 0 { // published and pruned
					continue
				}
				body, n, err := sealBody(ctx, s, r.Body)
				if err != nil {
					return after, 0, 0, fmt.Errorf("outbox row %d: %w", r.Seq, err)
				}
				if n == 0 {
					continue
				}
				if _, err := tx.Exec(ctx, `UPDATE `+table+` SET event = $2 WHERE seq = $1`, r.Seq, body); err != nil {
					return after, 0, 0, err
				}
				changed++
			}
			return after, len(found), changed, nil
		}}
}

func sealBody(ctx context.Context, s *sealed.Sealer, body []byte) ([]byte, int, error) {
	e := event.New()
	if err := e.UnmarshalJSON(body); err != nil {
		return nil, 0, err
	}
	out, n, err := s.SealPlainEvent(ctx, e)
	if err != nil || n == 0 {
		return nil, n, err
	}
	b, err := json.Marshal(out)
	return b, n, err
}

// Plain counts the ledger entries whose event still holds plaintext
// personal strings.
func Plain(ctx context.Context, pool *pgxpool.Pool, progress func(done, total int64)) (int64, error) {
	var total int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger.entries`).Scan(&total); err != nil {
		return 0, err
	}
	var plain, done int64
	after := int64(0)
	for {
		rows, err := pool.Query(ctx, `SELECT seq, event FROM ledger.entries WHERE seq > $1 ORDER BY seq LIMIT $2`, after, batch)
		if err != nil {
			return plain, err
		}
		n := 0
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&after, &body); err != nil {
				rows.Close()
				return plain, err
			}
			n++
			if holdsPlaintext(body) {
				plain++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return plain, err
		}
		done += int64(n)
		if progress != nil {
			progress(done, max(total, done))
		}
		if n < batch {
			return plain, nil
		}
	}
}

// holdsPlaintext reports whether an event's data has a personal string
// that is neither sealed nor removed.
func holdsPlaintext(body []byte) bool {
	e := event.New()
	if e.UnmarshalJSON(body) != nil || len(e.Data()) == 0 {
		return false
	}
	found, err := sealed.HasPlaintext(e.Data())
	return err == nil && found
}

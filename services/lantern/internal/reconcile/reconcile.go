// Package reconcile finds events that Lantern published and the broker
// acknowledged, but that a consumer meant to receive never applied, and
// puts them back in their outbox for the relay to publish again.
//
// That happens only when the broker loses messages it had acknowledged:
// a damaged or truncated stream file, a store restored from an old backup.
// The outboxes keep every event's body (sealed) for a re-publish horizon
// after publishing it, the ledger keeps a copy of every event it applied,
// and every consumer records each event it applies (consumed_events, or
// the ledger's own entries), so the gap can be found by comparing the two
// and closed by a re-publish, which the consumers' idempotency makes safe.
package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
)

// Gap is one published event a consumer has not applied.
type Gap struct {
	// Outbox is the schema whose outbox holds the event.
	Outbox   string
	EventID  string
	Subject  string
	Consumer string
}

// Reconciler compares the outboxes in PostgreSQL with what each durable
// consumer of the events stream has applied.
type Reconciler struct {
	Pool *pgxpool.Pool
	JS   jetstream.JetStream
	// Sealer opens the ledger's copy of an event whose outbox body was
	// pruned; without one, only events still in their outbox are requeued.
	Sealer *sealed.Sealer
}

// consumer is a durable consumer, the subjects it receives, and the query
// that reports which of a list of event ids ($1) it ($2) has not applied.
type consumer struct {
	name    string
	filters []string
	missing string
}

// Find lists every event published between since ago and grace ago that a
// consumer whose filter matches its subject has not applied. Grace leaves
// events still on their way alone.
func (r Reconciler) Find(ctx context.Context, since, grace time.Duration) ([]Gap, error) {
	consumers, err := r.consumers(ctx)
	if err != nil {
		return nil, err
	}
	outboxes, err := r.outboxes(ctx)
	if err != nil {
		return nil, err
	}
	var gaps []Gap
	for _, schema := range outboxes {
		found, err := r.findIn(ctx, schema, consumers, since, grace)
		if err != nil {
			return nil, err
		}
		gaps = append(gaps, found...)
	}
	return gaps, nil
}

// consumers reads the events stream's durable consumers and their filters
// from the broker, and pairs each with its record of applied events.
func (r Reconciler) consumers(ctx context.Context) ([]consumer, error) {
	stream, err := r.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		return nil, fmt.Errorf("looking up stream %s: %w", bus.EventsStream, err)
	}
	var out []consumer
	infos := stream.ListConsumers(ctx)
	for info := range infos.Info() {
		name := info.Config.Durable
		if name == "" {
			continue
		}
		missing, err := r.missingQuery(ctx, name)
		if err != nil {
			return nil, err
		}
		if missing == "" {
			continue // a consumer that keeps no record in PostgreSQL
		}
		filters := slices.Clone(info.Config.FilterSubjects)
		if info.Config.FilterSubject != "" {
			filters = append(filters, info.Config.FilterSubject)
		}
		out = append(out, consumer{name: name, filters: filters, missing: missing})
	}
	if err := infos.Err(); err != nil {
		return nil, fmt.Errorf("listing consumers: %w", err)
	}
	return out, nil
}

// missingQuery is the query for the event ids a consumer has not applied:
// the ledger keeps each event it records under its id; every other
// consumer claims events in its schema's consumed_events. A consumer with
// neither gets "".
func (r Reconciler) missingQuery(ctx context.Context, name string) (string, error) {
	if name == "ledger" {
		return `SELECT id FROM unnest($1::text[]) id WHERE $2 <> '' AND NOT EXISTS (SELECT 1 FROM ledger.entries e WHERE e.event_id = id)`, nil
	}
	table := pgx.Identifier{name, "consumed_events"}.Sanitize()
	var exists bool
	if err := r.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
		return "", fmt.Errorf("looking for %s: %w", table, err)
	}
	if !exists {
		return "", nil
	}
	return `SELECT id FROM unnest($1::text[]) id WHERE NOT EXISTS (SELECT 1 FROM ` + table +
		` c WHERE c.consumer = $2 AND c.event_id = id)`, nil
}

// outboxes are the schemas holding an outbox table.
func (r Reconciler) outboxes(ctx context.Context) ([]string, error) {
	rows, err := r.Pool.Query(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox' ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("finding outboxes: %w", err)
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("finding outboxes: %w", err)
	}
	return schemas, nil
}

func (r Reconciler) findIn(ctx context.Context, schema string, consumers []consumer, since, grace time.Duration) ([]Gap, error) {
	rows, err := r.Pool.Query(ctx, `SELECT event_id, subject FROM `+pgx.Identifier{schema, "outbox"}.Sanitize()+`
		WHERE published_at IS NOT NULL AND published_at > now() - $1::interval AND published_at <= now() - $2::interval`,
		since.String(), grace.String())
	if err != nil {
		return nil, fmt.Errorf("reading %s's outbox: %w", schema, err)
	}
	subjects := map[string]string{}
	var id, subject string
	if _, err := pgx.ForEachRow(rows, []any{&id, &subject}, func() error { subjects[id] = subject; return nil }); err != nil {
		return nil, fmt.Errorf("reading %s's outbox: %w", schema, err)
	}
	var gaps []Gap
	for _, c := range consumers {
		var ids []string
		for id, subject := range subjects {
			if matchesAny(subject, c.filters) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		rows, err := r.Pool.Query(ctx, c.missing, ids, c.name)
		if err != nil {
			return nil, fmt.Errorf("checking what %s applied: %w", c.name, err)
		}
		missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("checking what %s applied: %w", c.name, err)
		}
		for _, id := range missing {
			gaps = append(gaps, Gap{Outbox: schema, EventID: id, Subject: subjects[id], Consumer: c.name})
		}
	}
	slices.SortFunc(gaps, func(a, b Gap) int {
		return cmp.Or(strings.Compare(a.EventID, b.EventID), strings.Compare(a.Consumer, b.Consumer))
	})
	return gaps, nil
}

func matchesAny(subject string, filters []string) bool {
	return slices.ContainsFunc(filters, func(f string) bool { return server.SubjectMatchesFilter(subject, f) })
}

// Requeue marks the gaps' events unpublished, so that their outbox relays
// publish them again, and returns how many rows it changed. An outbox drops
// an event's body once the stream confirms it (it may carry personal data),
// so a pruned event's body is restored first from the ledger's copy, its
// sealed fields opened with sealer; an event the ledger does not hold
// either is left alone and reported in the error.
func (r Reconciler) Requeue(ctx context.Context, gaps []Gap) (int64, error) {
	byOutbox := map[string][]string{}
	for _, g := range gaps {
		if !slices.Contains(byOutbox[g.Outbox], g.EventID) {
			byOutbox[g.Outbox] = append(byOutbox[g.Outbox], g.EventID)
		}
	}
	var n int64
	var errs []error
	for schema, ids := range byOutbox {
		if err := r.restoreBodies(ctx, schema, ids); err != nil {
			errs = append(errs, err)
		}
		tag, err := r.Pool.Exec(ctx, `UPDATE `+pgx.Identifier{schema, "outbox"}.Sanitize()+`
			SET published_at = NULL WHERE event_id = ANY($1) AND published_at IS NOT NULL AND event <> ''::bytea`, ids)
		if err != nil {
			errs = append(errs, fmt.Errorf("requeueing in %s's outbox: %w", schema, err))
			continue
		}
		// The relay finds them at its next poll.
		n += tag.RowsAffected()
	}
	return n, errors.Join(errs...)
}

// restoreBodies puts back, from the ledger, the body of each of ids whose
// outbox row in schema was pruned.
func (r Reconciler) restoreBodies(ctx context.Context, schema string, ids []string) error {
	rows, err := r.Pool.Query(ctx, `SELECT o.event_id, e.event
		FROM `+pgx.Identifier{schema, "outbox"}.Sanitize()+` o
		LEFT JOIN ledger.entries e ON e.event_id = o.event_id
		WHERE o.event_id = ANY($1) AND o.event = ''::bytea`, ids)
	if err != nil {
		return fmt.Errorf("finding pruned events in %s's outbox: %w", schema, err)
	}
	type pruned struct {
		id     string
		stored []byte
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (pruned, error) {
		var p pruned
		err := row.Scan(&p.id, &p.stored)
		return p, err
	})
	if err != nil {
		return fmt.Errorf("finding pruned events in %s's outbox: %w", schema, err)
	}
	var errs []error
	for _, p := range found {
		if p.stored == nil {
			errs = append(errs, fmt.Errorf("event %s: its body was pruned from %s's outbox and the ledger holds no copy", p.id, schema))
			continue
		}
		body, err := r.openLedgerCopy(ctx, p.stored)
		if err == nil {
			_, err = r.Pool.Exec(ctx, `UPDATE `+pgx.Identifier{schema, "outbox"}.Sanitize()+`
				SET event = $2 WHERE event_id = $1`, p.id, body)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restoring event %s from the ledger: %w", p.id, err))
		}
	}
	return errors.Join(errs...)
}

// openLedgerCopy returns the event as its outbox held it: the ledger's
// copy with the personal fields of its data opened.
func (r Reconciler) openLedgerCopy(ctx context.Context, stored []byte) ([]byte, error) {
	e := event.New()
	if err := e.UnmarshalJSON(stored); err != nil {
		return nil, err
	}
	if len(e.Data()) == 0 {
		return stored, nil
	}
	if r.Sealer == nil {
		return nil, errors.New("no key-encryption key to open the ledger's copy (set LANTERN_KEK)")
	}
	opened, err := r.Sealer.OpenEvent(ctx, e)
	if err != nil {
		return nil, err
	}
	return opened.MarshalJSON()
}

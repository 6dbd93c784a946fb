// Package conformance is the one suite every Lantern consumer runs, so that
// the guarantees the bus relies on are proven the same way for each: an
// event delivered again, in any order and concurrently with others, changes
// nothing; an event that can never be handled is refused as Permanent and
// changes nothing.
//
// A consumer's test gives the suite a way to build the consumer on a fresh
// database (Setup) and the events it consumes (fixtures, usually a simulated
// month from projectiontest); the suite does the rest.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// Message is an event and the subject it travels on.
type Message struct {
	Event   cloudevent.Event
	Subject string
}

// Consumer is one consumer, built afresh for each check.
type Consumer struct {
	// Handler is the consumer's handler, with whatever it is wired with
	// in the service.
	Handler bus.Handler
	// Subjects are the consumer's subject filters: the suite delivers only
	// the fixtures that match, as the broker would.
	Subjects []string
	// Digest summarises everything the consumer has stored; SchemaDigest
	// serves a consumer that owns its schemas.
	Digest func(ctx context.Context) (string, error)
	// Invalid turns a valid message into one the consumer must refuse.
	// Nil means the default: the same event with data its schema refuses.
	Invalid func(Message) Message
	// Batch is the consumer's batching as its service configures it
	// (bus.Batch): the suite applies batches of fixtures in one shared
	// transaction each, as the bus does.
	Batch bus.Batch
}

// Setup builds a consumer on a database of its own.
type Setup func(t *testing.T) Consumer

// attempts bounds how often one delivery is retried after a retryable
// error, as the broker would redeliver it.
const attempts = 50

// Run runs every check of the suite against the consumer setup builds.
func Run(t *testing.T, setup Setup, fixtures []Message) {
	t.Helper()
	t.Run("every event delivered twice more, shuffled and concurrently, changes nothing", func(t *testing.T) {
		if err := CheckRedelivery(t.Context(), setup(t), fixtures, uint64(time.Now().UnixNano())); err != nil {
			t.Error(err)
		}
	})
	t.Run("an event that fails validation is refused as Permanent and changes nothing", func(t *testing.T) {
		if err := CheckInvalid(t.Context(), setup(t), fixtures); err != nil {
			t.Error(err)
		}
	})
	t.Run("events applied in batches, each with a poison message and a duplicate, are each applied once", func(t *testing.T) {
		if err := CheckBatches(t.Context(), setup(t), fixtures, uint64(time.Now().UnixNano())); err != nil {
			t.Error(err)
		}
	})
}

// CheckRedelivery delivers every fixture once in order, then every one
// twice more, shuffled by seed, from concurrent goroutines, and requires
// the digest after the redeliveries to equal the digest after the first.
func CheckRedelivery(ctx context.Context, c Consumer, fixtures []Message, seed uint64) error {
	msgs, empty, err := c.start(ctx, fixtures)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := deliver(ctx, c.Handler, m); err != nil {
			return fmt.Errorf("first delivery: %w", err)
		}
	}
	before, err := c.Digest(ctx)
	if err != nil {
		return err
	}
	if before == empty {
		return fmt.Errorf("delivering %d events stored nothing, so redelivering them would prove nothing", len(msgs))
	}
	again := shuffled(slices.Concat(msgs, msgs), seed)
	if err := deliverConcurrently(ctx, c.Handler, again); err != nil {
		return fmt.Errorf("redelivery (seed %d): %w", seed, err)
	}
	after, err := c.Digest(ctx)
	if err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("redelivering %d events (seed %d) changed the stored state: digest %s became %s",
			len(msgs), seed, before, after)
	}
	return nil
}

// CheckInvalid delivers an invalid version of one fixture of each event
// type the consumer takes, and requires a Permanent error for each and the
// digest unchanged.
func CheckInvalid(ctx context.Context, c Consumer, fixtures []Message) error {
	msgs, before, err := c.start(ctx, fixtures)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.Event.Type()] {
			continue
		}
		seen[m.Event.Type()] = true
		bad := c.invalid(m)
		if err := c.Handler(bus.WithSubject(ctx, bad.Subject), bad.Event); !bus.IsPermanent(err) {
			return fmt.Errorf("invalid %s: handler returned %v, want a Permanent error", m.Event.Type(), err)
		}
	}
	after, err := c.Digest(ctx)
	if err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("refused events changed the stored state: digest %s became %s", before, after)
	}
	return nil
}

// batchSize is the size of the suite's batches: several incidents' events
// in each.
const batchSize = 16

// CheckBatches applies the fixtures in batches, each batch in one shared
// transaction (pgdb.Shared) as bus.Batch applies them, with an invalid
// version of the batch's first event in its middle and its first event again
// at its end. Each invalid event must be refused as Permanent, wherever it
// is refused. Delivering every fixture again afterwards, one at a time and
// then in batches shuffled by seed, must change nothing: a batch that lost
// an event, or applied one twice, would show.
func CheckBatches(ctx context.Context, c Consumer, fixtures []Message, seed uint64) error {
	if c.Batch.DB == nil {
		return errors.New("the consumer names no Batch.DB: its handlers cannot be checked in batches")
	}
	msgs, empty, err := c.start(ctx, fixtures)
	if err != nil {
		return err
	}
	for start := 0; start < len(msgs); start += batchSize {
		part := msgs[start:min(start+batchSize, len(msgs))]
		batch := slices.Concat(part[:len(part)/2], []Message{c.invalid(part[0])}, part[len(part)/2:], part[:1])
		refused, err := applyBatch(ctx, c, batch)
		if err != nil {
			return fmt.Errorf("batch at fixture %d: %w", start, err)
		}
		if !refused[len(part)/2] {
			return fmt.Errorf("batch at fixture %d: the invalid %s was not refused as Permanent", start, part[0].Event.Type())
		}
	}
	before, err := c.Digest(ctx)
	if err != nil {
		return err
	}
	if before == empty {
		return fmt.Errorf("applying %d events in batches stored nothing", len(msgs))
	}
	for _, m := range msgs {
		if err := deliver(ctx, c.Handler, m); err != nil {
			return fmt.Errorf("delivering again after the batches: %w", err)
		}
	}
	if after, err := c.Digest(ctx); err != nil || after != before {
		return fmt.Errorf("delivering one at a time after the batches changed the stored state (digest %s became %s, %v): "+
			"a batch lost or doubled an event", before, after, err)
	}
	again := shuffled(slices.Clone(msgs), seed)
	for start := 0; start < len(again); start += batchSize {
		if _, err := applyBatch(ctx, c, again[start:min(start+batchSize, len(again))]); err != nil {
			return fmt.Errorf("redelivery in batches (seed %d): %w", seed, err)
		}
	}
	if after, err := c.Digest(ctx); err != nil || after != before {
		return fmt.Errorf("redelivering in batches (seed %d) changed the stored state: digest %s became %s (%v)", seed, before, after, err)
	}
	return nil
}

// applyBatch applies batch in one shared transaction, as the bus does: a
// message the consumer has applied before (Batch.Seen) or earlier in the
// batch is skipped, a handler refusing its event before writing leaves the
// transaction to the others, and one failing after writing spoils it, so
// that the batch is applied one message at a time instead. It reports
// which messages were refused as Permanent.
func applyBatch(ctx context.Context, c Consumer, batch []Message) (map[int]bool, error) {
	refused := map[int]bool{}
	sh, err := pgdb.Begin(ctx, c.Batch.DB)
	if err != nil {
		return nil, err
	}
	bctx := sh.Context(ctx)
	seen := map[string]bool{}
	if c.Batch.Seen != nil {
		ids := make([]string, len(batch))
		for i, m := range batch {
			ids[i] = m.Event.ID()
		}
		if seen, err = c.Batch.Seen(bctx, sh.Tx(), ids); err != nil {
			sh.Rollback(ctx)
			return nil, fmt.Errorf("finding applied events: %w", err)
		}
	}
	for i, m := range batch {
		if seen[m.Event.ID()] {
			continue
		}
		sh.Wrote()
		err := c.Handler(bus.WithSubject(bctx, m.Subject), m.Event)
		switch {
		case err == nil:
			seen[m.Event.ID()] = true
		case bus.IsPermanent(err) && !sh.Wrote() && !sh.Failed():
			refused[i] = true
		default:
			sh.Rollback(ctx)
			return applySingly(ctx, c, batch)
		}
	}
	if err := sh.Commit(ctx); err != nil {
		return applySingly(ctx, c, batch)
	}
	return refused, nil
}

func applySingly(ctx context.Context, c Consumer, batch []Message) (map[int]bool, error) {
	refused := map[int]bool{}
	for i, m := range batch {
		err := deliver(ctx, c.Handler, m)
		if bus.IsPermanent(err) {
			refused[i] = true
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return refused, nil
}

// start finds the fixtures c takes and the digest of its store before any
// of them is delivered.
func (c Consumer) start(ctx context.Context, fixtures []Message) ([]Message, string, error) {
	msgs := matching(c.Subjects, fixtures)
	if len(msgs) == 0 {
		return nil, "", fmt.Errorf("no fixture matches the consumer's subjects %v", c.Subjects)
	}
	empty, err := c.Digest(ctx)
	return msgs, empty, err
}

// invalid is m made into a message c must refuse, by c.Invalid or, by
// default, InvalidData.
func (c Consumer) invalid(m Message) Message {
	if c.Invalid != nil {
		return c.Invalid(m)
	}
	return InvalidData(m)
}

// shuffled shuffles msgs in place by seed and returns them.
func shuffled(msgs []Message, seed uint64) []Message {
	rand.New(rand.NewPCG(seed, seed>>1)).Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	return msgs
}

// InvalidData is m's event under a new id with data its schema refuses: an
// object whose every member has the wrong type.
func InvalidData(m Message) Message {
	e := m.Event.Clone()
	e.SetID(cloudevent.DeriveID(m.Event.ID(), "invalid"))
	_ = e.SetData("application/json", map[string]any{"incident_id": 42, "notification_id": []int{}})
	return Message{Event: e, Subject: m.Subject}
}

// deliver hands m to h, again after a retryable error, as the broker
// would.
func deliver(ctx context.Context, h bus.Handler, m Message) error {
	var err error
	for range attempts {
		if err = h(bus.WithSubject(ctx, m.Subject), m.Event); err == nil || bus.IsPermanent(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("event %s still failing after %d attempts: %w", m.Event.ID(), attempts, err)
}

// deliverConcurrently delivers msgs from a few goroutines at once, as
// several replicas of a consumer would.
func deliverConcurrently(ctx context.Context, h bus.Handler, msgs []Message) error {
	const workers = 4
	work := make(chan Message)
	errs := make(chan error, len(msgs))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for m := range work {
				if err := deliver(ctx, h, m); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, m := range msgs {
		work <- m
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// matching keeps the messages whose subject matches one of filters.
func matching(filters []string, msgs []Message) []Message {
	var out []Message
	for _, m := range msgs {
		for _, f := range filters {
			if subjectMatches(f, m.Subject) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// subjectMatches applies NATS subject wildcards: * one token, > the rest.
func subjectMatches(filter, subject string) bool {
	ft, st := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, tok := range ft {
		switch {
		case tok == ">":
			return len(st) > i
		case i >= len(st):
			return false
		case tok != "*" && tok != st[i]:
			return false
		}
	}
	return len(ft) == len(st)
}

// SchemaDigest summarises every row of every table in schemas, so that
// any change a handler made shows.
func SchemaDigest(pool *pgxpool.Pool, schemas ...string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		rows, err := pool.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
			WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' ORDER BY 1, 2`, schemas)
		if err != nil {
			return "", fmt.Errorf("listing tables: %w", err)
		}
		var tables []string
		for rows.Next() {
			var schema, table string
			if err := rows.Scan(&schema, &table); err != nil {
				return "", err
			}
			tables = append(tables, fmt.Sprintf("%q.%q", schema, table))
		}
		if err := rows.Err(); err != nil {
			return "", err
		}
		var b strings.Builder
		for _, table := range tables {
			var sum string
			if err := pool.QueryRow(ctx, `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')
				FROM `+table+` t`).Scan(&sum); err != nil {
				return "", fmt.Errorf("digesting %s: %w", table, err)
			}
			fmt.Fprintf(&b, "%s=%s;", table, sum)
		}
		return b.String(), nil
	}
}

// Simulated is the events of count simulated incidents from
// projectiontest, as fixtures: every type in the catalogue, with the
// outcomes of a realistic month.
func Simulated(t testing.TB, count int, seed uint64) []Message {
	t.Helper()
	var out []Message
	start := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	for _, p := range projectiontest.All(projectiontest.Simulate(t, count, start, seed)) {
		out = append(out, Message{Event: p.Event, Subject: p.Subject})
	}
	return out
}

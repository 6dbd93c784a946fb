package bus

import (
	"context"
	"maps"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/faults"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// DefaultBatchSize is how many messages a batched consumer applies in one
// transaction unless told otherwise (LANTERN_CONSUMER_BATCH). A commit
// costs a WAL flush whatever it holds, so a larger batch spreads it
// thinner; past a hundred or so the flush is a small part of the batch, and
// a larger one only holds its locks longer and redoes more when a message
// in it fails.
const DefaultBatchSize = 128

// Batch makes a consumer apply the messages that have queued up, up to
// Size of them, in one PostgreSQL transaction (pgdb.Shared): each handler's
// pgdb.InTx on DB joins it, the batch commits once, then every message is
// acknowledged. The commit, its WAL flush and the wait for the broker are
// paid once per batch instead of once per message.
//
// Messages are applied one after another in stream order, so that the
// handlers of one incident's events see each other's effects as they
// would one at a time, and a batch is fetched only once the one before it
// is settled.
//
// A message whose handler fails is isolated, never holding the others
// back. A handler that fails before writing (an event its schema refuses,
// say: Permanent) leaves the transaction as it was; its message is
// dead-lettered or retried after the commit, as on its own. A handler that
// fails after writing may have left half its effects, so the transaction
// is rolled back and the batch applied again in three parts: the messages
// before it as a batch, it alone in its own transaction (dead-lettered or
// retried as its error says), and the messages after it as a batch. A
// message retried holds back the later messages of its incident in the
// same batch, which are retried with it rather than applied out of order.
//
// Seen, if set, names the messages already applied (outbox.Store.Seen),
// found in one query for the whole batch; they are acknowledged without
// running their handlers, as is a second message with an event id already
// applied in the batch. It only saves work: handlers stay idempotent on
// their own.
type Batch struct {
	// Size is the most messages in one transaction: DefaultBatchSize
	// when zero; 1 handles each in its own transaction.
	Size int
	// DB is the pool the handlers' transactions are begun on. Without it
	// messages are handled one at a time.
	DB *pgxpool.Pool
	// Seen returns which of ids are applied already.
	Seen func(ctx context.Context, q pgdb.Querier, ids []string) (map[string]bool, error)
}

// apply handles items as one batch, and again in parts if a handler
// spoils the transaction. held names the incidents with a message to be
// retried, whose later messages wait.
func (w *worker) apply(ctx context.Context, items []*item, held map[string]bool) {
	if len(items) <= 1 || w.spec.Batch.Size <= 1 {
		for _, it := range items {
			w.single(ctx, it, held)
		}
		return
	}
	start := maps.Clone(held)
	singly := func(reason string, err error) {
		w.log.Warn(reason+"; applying the batch one message at a time", zap.Int("messages", len(items)), zap.Error(err))
		restore(held, start)
		for _, it := range items {
			w.single(ctx, it, held)
		}
	}
	sh, err := pgdb.Begin(ctx, w.spec.Batch.DB)
	if err != nil {
		singly("beginning the batch failed", err)
		return
	}
	bctx := sh.Context(ctx)
	seen, err := w.seen(bctx, sh, items)
	if err != nil {
		sh.Rollback(ctx)
		singly("finding the batch's applied messages failed", err)
		return
	}
	errs := make([]error, len(items))
	for i, it := range items {
		id := it.event.ID()
		switch {
		case w.holds(held, it):
			errs[i] = errHeld
			continue
		case seen[id]:
			continue
		}
		sh.Wrote()
		err := w.handle(it.context(bctx), it.event)
		if err != nil && (sh.Wrote() || sh.Failed()) {
			sh.Rollback(ctx)
			w.log.Warn("a handler failed in a batch; applying the batch again around it", zap.String("event_id", id),
				zap.Int("position", i), zap.Int("messages", len(items)), zap.Error(err))
			restore(held, start)
			w.apply(ctx, items[:i], held)
			w.single(ctx, it, held)
			w.apply(ctx, items[i+1:], held)
			return
		}
		errs[i] = err
		if err == nil {
			seen[id] = true
		} else if w.retries(it, err) && it.incident != "" {
			held[it.incident] = true
		}
	}
	if err := sh.Commit(ctx); err != nil {
		singly("committing the batch failed", err)
		return
	}
	w.settleBatch(ctx, items, errs)
}

// seen asks Batch.Seen which of items are applied already.
func (w *worker) seen(ctx context.Context, sh *pgdb.Shared, items []*item) (map[string]bool, error) {
	if w.spec.Batch.Seen == nil {
		return map[string]bool{}, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.event.ID()
	}
	return w.spec.Batch.Seen(ctx, sh.Tx(), ids)
}

// settleBatch acknowledges the messages of a committed batch and settles
// the ones whose handlers failed.
func (w *worker) settleBatch(ctx context.Context, items []*item, errs []error) {
	faults.Crash(faults.ConsumeBeforeAck)
	var done []*item
	for i, it := range items {
		if errs[i] == nil {
			done = append(done, it)
			continue
		}
		w.settle(ctx, it, errs[i])
	}
	w.ack(ctx, done)
}

func restore(held, start map[string]bool) {
	clear(held)
	maps.Copy(held, start)
}

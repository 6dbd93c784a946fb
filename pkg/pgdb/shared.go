package pgdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Shared is one transaction that the handlers of a batch of consumed
// messages all run in, so that the batch costs one commit (one WAL flush)
// instead of one per message. A handler does not see it: InTx, given a
// context that carries it (Context) and the pool it was begun on, runs its
// function in the shared transaction instead of beginning one, and the
// batch's consumer commits once every handler has run.
//
// Because nothing is committed until the whole batch is, whatever a handler
// does besides writing in the transaction must wait for the commit: a
// handler registers such steps with AfterCommit, and state it keeps for the
// whole batch (such as the head of a hash chain) with Value and
// BeforeCommit. A Shared is used by one goroutine at a time.
type Shared struct {
	pool   *pgxpool.Pool
	tx     pgx.Tx
	wrote  bool
	before []func(ctx context.Context, tx pgx.Tx) error
	state  *txState // its AfterCommit steps and Values, as for InTx's
}

type sharedKey struct{}

// Begin begins a shared transaction on pool.
func Begin(ctx context.Context, pool *pgxpool.Pool) (*Shared, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, fmt.Errorf("beginning transaction: %w", err)
	}
	return &Shared{pool: pool, tx: tx, state: track(tx)}, nil
}

// Context is ctx carrying s, for the handlers that are to join it.
func (s *Shared) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedKey{}, s)
}

// SharedOf returns the shared transaction ctx carries, or nil.
func SharedOf(ctx context.Context) *Shared {
	s, _ := ctx.Value(sharedKey{}).(*Shared)
	return s
}

// Tx is the shared transaction itself.
func (s *Shared) Tx() pgx.Tx { return s.tx }

// Wrote reports whether a function ran in the transaction through InTx
// since the last call, and forgets it: a handler that failed after writing
// may have left half its effects, so the batch cannot commit, while one
// that failed before writing left the transaction as it was.
func (s *Shared) Wrote() bool {
	w := s.wrote
	s.wrote = false
	return w
}

// Failed reports whether PostgreSQL has aborted the transaction (a
// statement in it failed), after which only a rollback is possible.
func (s *Shared) Failed() bool {
	return s.tx.Conn().PgConn().TxStatus() == 'E'
}

// Value returns the batch's value under key, made by create the first time
// it is asked for (and kept only if create succeeds): per-batch state,
// gone with the transaction.
func (s *Shared) Value(key any, create func() (any, error)) (any, error) {
	if v, ok := s.state.values[key]; ok {
		return v, nil
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	s.state.values[key] = v
	return v, nil
}

// BeforeCommit adds a step that runs in the transaction, in the order
// added, just before it commits: a write that the batch's handlers would
// otherwise each repeat, such as moving a chain's head, made once.
func (s *Shared) BeforeCommit(fn func(ctx context.Context, tx pgx.Tx) error) {
	s.before = append(s.before, fn)
}

// AfterCommit runs fn once the transaction ctx carries has committed, or
// at once when ctx carries none: the caller's own transaction has then
// committed already. Nothing that announces an effect (waking a relay,
// telling a checkpointer of a new entry, caching what the transaction
// made) may run before its commit.
func AfterCommit(ctx context.Context, fn func()) {
	if s := SharedOf(ctx); s != nil {
		s.state.after = append(s.state.after, fn)
		return
	}
	fn()
}

// Commit runs the BeforeCommit steps, commits, then runs the AfterCommit
// steps. On an error the transaction is rolled back and no AfterCommit
// step runs.
func (s *Shared) Commit(ctx context.Context) error {
	for _, fn := range s.before {
		if err := fn(ctx, s.tx); err != nil {
			s.Rollback(ctx)
			return err
		}
	}
	untrack(s.tx, s.state)
	if err := s.tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	s.state.committed()
	return nil
}

// Rollback abandons the transaction and everything registered with it.
func (s *Shared) Rollback(ctx context.Context) {
	// A failed rollback closes the connection, which ends the
	// transaction as surely: there is nothing left to undo.
	untrack(s.tx, s.state)
	_ = s.tx.Rollback(context.WithoutCancel(ctx))
	s.before, s.state.after = nil, nil
}

// Q is what to read with on pool under ctx: the shared transaction when ctx
// carries one begun on pool, so that a handler sees what the handlers
// before it in the batch wrote, otherwise the pool.
func Q(ctx context.Context, pool *pgxpool.Pool) Querier {
	if s := SharedOf(ctx); s != nil && s.pool == pool {
		return s.tx
	}
	return pool
}

// joined is the shared transaction InTx should run in, if any.
func joined(ctx context.Context, pool *pgxpool.Pool) *Shared {
	if s := SharedOf(ctx); s != nil && s.pool == pool {
		return s
	}
	return nil
}

// SeenIDs runs query, which selects the ids among $1 (a text array) that are
// recorded somewhere, with args as $2 on, and returns them as a set: the
// one query with which a batch finds its messages applied before.
func SeenIDs(ctx context.Context, q Querier, query string, ids []string, args ...any) (map[string]bool, error) {
	rows, err := q.Query(ctx, query, append([]any{ids}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("finding events applied before: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("finding events applied before: %w", err)
	}
	seen := make(map[string]bool, len(found))
	for _, id := range found {
		seen[id] = true
	}
	return seen, nil
}

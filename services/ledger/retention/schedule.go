package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/metrics"
)

// LockKey is the PostgreSQL advisory lock a scheduled run holds, so that
// of several ledger replicas ticking at once exactly one runs; the others
// skip that tick. Exactly-once shredding does not rest on it (each
// shredding is one transaction, and ledger.shreddings' primary key
// refuses a second), but it keeps replicas from racing over the same
// incidents. The number is "lantern-retention" in ASCII, truncated.
const LockKey int64 = 0x6c616e7465726e72

// progressEvery is how many incidents pass between progress lines.
const progressEvery = 100

// Loop runs the scheduler on a timer inside a service.
type Loop struct {
	Scheduler *Scheduler
	Log       *zap.Logger
	// Metrics, when not nil, counts runs and shreddings.
	Metrics *metrics.Retention
}

// Run ticks every interval until ctx ends, starting at once.
func (l *Loop) Run(ctx context.Context, interval time.Duration) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	l.RunTicks(ctx, ticker.C)
	return nil
}

// RunTicks runs once at once and then each time ticks delivers, until ctx
// ends or ticks is closed, so that tests drive it without waiting on real
// time. A failed run is logged and the next tries again: an incident stays
// due until its shredding commits.
func (l *Loop) RunTicks(ctx context.Context, ticks <-chan time.Time) {
	for {
		l.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ticks:
			if !ok {
				return
			}
		}
	}
}

func (l *Loop) tick(ctx context.Context) {
	start := time.Now() // how long the run took, for the log: wall time
	res, ran, err := l.Scheduler.Tick(ctx, l.progress)
	switch {
	case err != nil && ctx.Err() != nil:
		return
	case err != nil:
		l.Log.Warn("retention run failed; the next run tries again", zap.Int("shredded", res.Shredded), zap.Error(err))
		if l.Metrics != nil {
			l.Metrics.Failed(res.Shredded)
		}
	case !ran:
		l.Log.Debug("retention run left to another replica")
		if l.Metrics != nil {
			l.Metrics.Skipped()
		}
	default:
		now := l.Scheduler.Clock.Now()
		l.Log.Info("retention run", zap.String("policy", l.Scheduler.Policy.Version), zap.Int("due", res.Due),
			zap.Int("held", res.Held), zap.Int("shredded", res.Shredded), zap.Duration("took", time.Since(start)))
		if l.Metrics != nil {
			l.Metrics.Ran(now, res.Due, res.Held, res.Shredded)
		}
	}
}

// progress logs every progressEvery incidents of a long run: counts only.
func (l *Loop) progress(done, total int) {
	if done%progressEvery == 0 && done < total {
		l.Log.Info("retention run progress", zap.Int("done", done), zap.Int("total", total))
	}
}

// Tick runs the scheduler once unless another process holds LockKey, in
// which case it reports ran false and does nothing.
func (s *Scheduler) Tick(ctx context.Context, progress func(done, total int)) (res Result, ran bool, err error) {
	unlock, ok, err := tryLock(ctx, s.Pool, LockKey)
	if err != nil || !ok {
		return Result{}, false, err
	}
	defer unlock()
	res, err = s.Run(ctx, false, progress)
	return res, true, err
}

// tryLock takes a session advisory lock on a connection of its own, held
// until unlock. If the unlock cannot be sent the connection is closed,
// which releases the lock, rather than returned to the pool holding it.
func tryLock(ctx context.Context, pool *pgxpool.Pool, key int64) (unlock func(), ok bool, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("retention lock: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		conn.Release()
		if err != nil {
			err = fmt.Errorf("retention lock: %w", err)
		}
		return nil, false, err
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}, true, nil
}

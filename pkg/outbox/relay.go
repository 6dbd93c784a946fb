package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/faults"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// Relay publishes committed outbox rows to JetStream in order and marks them
// published. A crash between the publish and the mark re-publishes the same
// event id, which the stream's deduplication or the consumers' inboxes drop.
type Relay struct {
	store     *Store
	pool      *pgxpool.Pool
	publisher *bus.Publisher
	log       *zap.Logger
	// Batch is how many rows one transaction publishes.
	Batch int
	// Poll is the longest the relay waits without a notification; it
	// bounds the delay if a NOTIFY is ever missed.
	Poll time.Duration
	// StallAfter is how long the relay may go without finishing a round
	// (a look for pending rows, publishing what it found) before Check
	// calls it stalled.
	StallAfter time.Duration
	// OnPublished, if set, is told of every event the stream
	// acknowledged, after the whole batch was; duplicate says the stream
	// already held it. It is for metrics: it must not block.
	OnPublished func(subject string, e event.Event, duplicate bool)
	// progress is when the last round finished, in Unix nanoseconds; zero
	// before the first.
	progress atomic.Int64
	// lastErr is why the last round failed, cleared by a round that
	// succeeds.
	lastErr atomic.Pointer[error]
	// pruned is when Prune last ran, in the relay's own goroutine.
	pruned time.Time
}

// NewRelay returns a relay for the store's outbox.
func (s *Store) NewRelay(pool *pgxpool.Pool, publisher *bus.Publisher, log *zap.Logger) *Relay {
	return &Relay{store: s, pool: pool, publisher: publisher, log: log.With(zap.String("component", "outbox-relay")),
		Batch: 256, Poll: time.Second, StallAfter: 15 * time.Second}
}

// Check reports why the relay is not making progress: its last round
// failed, or none has finished within StallAfter. A relay that has not
// started yet is not stalled.
func (r *Relay) Check() error {
	if errp := r.lastErr.Load(); errp != nil {
		return fmt.Errorf("outbox relay failing: %w", *errp)
	}
	last := r.progress.Load()
	if last == 0 {
		return errors.New("outbox relay has not finished a round yet")
	}
	if since := time.Since(time.Unix(0, last)); since > r.StallAfter {
		return fmt.Errorf("outbox relay stalled: no round finished for %s", since.Round(time.Second))
	}
	return nil
}

func (r *Relay) recordRound(err error) {
	if err != nil {
		r.lastErr.Store(&err)
		return
	}
	r.lastErr.Store(nil)
	r.progress.Store(time.Now().UnixNano())
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := r.listenAndRelay(ctx); err != nil && ctx.Err() == nil {
			r.recordRound(err)
			r.log.Warn("relay interrupted; restarting", zap.Error(err))
			sleep(ctx, time.Second)
		}
	}
	return nil
}

func (r *Relay) listenAndRelay(ctx context.Context) error {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquiring listen connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{r.store.channel()}.Sanitize()); err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	for ctx.Err() == nil {
		n, err := r.RelayOnce(ctx)
		if err != nil {
			return err
		}
		r.recordRound(nil)
		if n == r.Batch {
			continue
		}
		if err := r.pruneNow(ctx); err != nil {
			return err
		}
		if err := r.wait(ctx, conn); err != nil {
			return err
		}
	}
	return nil
}

// wait returns when a NOTIFY arrives, when a transaction of this process
// commits events (Store.InTx), or after Poll, whichever comes first.
func (r *Relay) wait(ctx context.Context, conn *pgxpool.Conn) error {
	waitCtx, cancel := context.WithTimeout(ctx, r.Poll)
	defer cancel()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-r.store.wake:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	_, err := conn.Conn().WaitForNotification(waitCtx)
	cancel()
	<-watched
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		return fmt.Errorf("waiting for notification: %w", err)
	}
	return nil
}

// pruneEvery is how often an idle relay drops the bodies past Keep.
const pruneEvery = time.Minute

// pruneNow drops the bodies of events published longer than the store's
// Keep ago, at most once every pruneEvery.
func (r *Relay) pruneNow(ctx context.Context) error {
	if time.Since(r.pruned) < pruneEvery {
		return nil
	}
	if _, err := r.Prune(ctx); err != nil {
		return err
	}
	r.pruned = time.Now()
	return nil
}

// Prune drops the bodies of events published longer than the store's Keep
// ago and returns how many it dropped. The rows stay, as the event ids'
// guard against a second enqueue and for latency figures.
func (r *Relay) Prune(ctx context.Context) (int64, error) {
	tag, err := r.pool.Exec(ctx, `UPDATE `+r.store.table+` SET event = ''::bytea
		WHERE published_at < now() - make_interval(secs => $1) AND event <> ''::bytea`, r.store.Keep.Seconds())
	if err != nil {
		return 0, fmt.Errorf("pruning published bodies: %w", err)
	}
	return tag.RowsAffected(), nil
}

type pendingRow struct {
	seq     int64
	subject string
	event   event.Event
}

// RelayOnce publishes up to Batch unpublished rows and returns how many it
// published.
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	var n int
	err := pgdb.InTx(ctx, r.pool, func(tx pgx.Tx) error {
		rows, err := r.lockPending(ctx, tx)
		if err != nil || len(rows) == 0 {
			return err
		}
		if err := r.publishAll(ctx, rows); err != nil {
			return err
		}
		faults.Crash(faults.RelayAfterPublish)
		seqs := make([]int64, len(rows))
		for i, row := range rows {
			seqs[i] = row.seq
		}
		// The body stays for the store's Keep (sealed, where the store
		// seals) so that an event the broker loses can be published again;
		// prune drops it after that.
		_, err = tx.Exec(ctx, `UPDATE `+r.store.table+` SET published_at = now() WHERE seq = ANY($1)`, seqs)
		n = len(rows)
		return err
	})
	return n, err
}

func (r *Relay) lockPending(ctx context.Context, tx pgx.Tx) ([]pendingRow, error) {
	rows, err := tx.Query(ctx, `SELECT seq, subject, event FROM `+r.store.table+`
		WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`, r.Batch)
	if err != nil {
		return nil, fmt.Errorf("reading outbox: %w", err)
	}
	defer rows.Close()
	var out []pendingRow
	for rows.Next() {
		var row pendingRow
		var body []byte
		if err := rows.Scan(&row.seq, &row.subject, &body); err != nil {
			return nil, fmt.Errorf("scanning outbox: %w", err)
		}
		var err error
		if row.event, err = r.store.decode(ctx, body); err != nil {
			return nil, fmt.Errorf("outbox row %d holds a bad event: %w", row.seq, err)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// publishAll keeps the whole batch in flight at once and waits for every
// acknowledgement, so that a batch costs one round trip, not one per event.
func (r *Relay) publishAll(ctx context.Context, rows []pendingRow) error {
	futures := make([]jetstream.PubAckFuture, 0, len(rows))
	for _, row := range rows {
		f, err := r.publisher.PublishAsync(row.event, row.subject)
		if err != nil {
			return err
		}
		futures = append(futures, f)
	}
	if !awaitAcks {
		return nil
	}
	timeout := time.After(30 * time.Second)
	duplicates := 0
	dup := make([]bool, len(futures))
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				duplicates++
				dup[i] = true
			}
		case err := <-f.Err():
			return fmt.Errorf("publishing %s: %w", f.Msg().Header.Get("ce-id"), err)
		case <-timeout:
			return errors.New("timed out waiting for publish acknowledgements")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.OnPublished != nil {
		for i, row := range rows {
			r.OnPublished(row.subject, row.event, dup[i])
		}
	}
	if duplicates > 0 {
		// The stream recognised these by Nats-Msg-Id: an earlier run of
		// the relay published them but did not live to mark them sent.
		r.log.Info("stream already held re-published events", zap.Int("duplicates", duplicates))
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

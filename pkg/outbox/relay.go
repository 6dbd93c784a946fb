package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/faults"
)

// Relay publishes committed outbox rows to JetStream and marks them
// published. A round takes three steps, and no transaction stays open
// across a wait on the broker:
//
//  1. claim: one statement leases up to Batch unpublished rows, in order,
//     skipping rows another replica holds (FOR UPDATE SKIP LOCKED inside
//     the statement, then the lease in claimed_until);
//  2. publish: every row asynchronously, at most MaxPending in flight,
//     and every acknowledgement awaited;
//  3. mark: one statement marks the acknowledged rows published and
//     frees the lease of any that failed, which the next round retries.
//
// A crash between the publish and the mark leaves the rows leased until
// the lease runs out; then they are published again under the same event
// id, which the stream's deduplication or the consumers' inboxes drop.
//
// JetStream's atomic batch publish is not used: it fails the whole batch
// when one message's Nats-Msg-Id is already in the stream, which is just
// what a re-publish after a crash sends, and nats.go has no client for it.
//
// The relay also keeps a re-publish horizon (republish.go): when the broker
// may have lost writes it had acknowledged but not yet synced to disk, the
// rows published within Horizon before that moment are published again.
type Relay struct {
	store     *Store
	pool      *pgxpool.Pool
	publisher *bus.Publisher
	log       *zap.Logger
	// Batch is how many rows one round claims.
	Batch int
	// MaxPending bounds the publishes in flight at once.
	MaxPending int
	// Lease is how long a claim keeps other replicas off its rows. A relay
	// still waiting for acknowledgements when it runs out does no harm: a
	// second relay publishes the same events again, deduplicated.
	Lease time.Duration
	// AckTimeout bounds the wait for a batch's acknowledgements.
	AckTimeout time.Duration
	// Horizon is how far back before a suspected loss of the broker's
	// unsynced writes the relay publishes again. It must exceed the
	// broker's sync interval, with room for the delay between an
	// acknowledgement and the mark; it must stay below the stream's
	// duplicate window, so that what the broker kept is recognised.
	Horizon time.Duration
	// WatchEvery is how often an idle relay reads the stream's state to
	// tell whether it moved back.
	WatchEvery time.Duration
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
	// watch is what the relay knows of the broker, to tell when it may
	// have lost writes.
	watch watch
}

// Defaults of a new relay.
const (
	DefaultBatch      = 256
	DefaultMaxPending = 256
	DefaultLease      = 10 * time.Second
	DefaultAckTimeout = 30 * time.Second
	// DefaultHorizon is far longer than the short sync intervals Lantern
	// allows (natsembed.MaxSyncInterval) and far shorter than the
	// stream's ten-minute duplicate window.
	DefaultHorizon = time.Minute
)

// NewRelay returns a relay for the store's outbox.
func (s *Store) NewRelay(pool *pgxpool.Pool, publisher *bus.Publisher, log *zap.Logger) *Relay {
	return &Relay{store: s, pool: pool, publisher: publisher, log: log.With(zap.String("component", "outbox-relay")),
		Batch: DefaultBatch, MaxPending: DefaultMaxPending, Lease: DefaultLease, AckTimeout: DefaultAckTimeout,
		Horizon: DefaultHorizon, WatchEvery: 5 * time.Second, Poll: time.Second, StallAfter: 15 * time.Second,
		watch: watch{wake: make(chan struct{}, 1)}}
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

// Run relays until ctx ends. It first publishes again what was published
// within Horizon of the last publish (the broker may have lost it with
// the process that sent it, as in a power cut), then watches the broker's
// connection and stream for the same.
func (r *Relay) Run(ctx context.Context) error {
	stopWatch := r.watchConnection()
	defer stopWatch()
	if err := r.dueFromLastPublish(ctx); err != nil && ctx.Err() == nil {
		r.log.Warn("reading the last publish time", zap.Error(err))
	}
	for ctx.Err() == nil {
		if err := r.listenAndRelay(ctx); err != nil && ctx.Err() == nil {
			r.recordRound(err)
			r.log.Warn("relay interrupted; restarting", zap.Error(err))
			clock.Sleep(ctx, time.Second)
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
		if err := r.republishDue(ctx); err != nil {
			return err
		}
		n, err := r.RelayOnce(ctx)
		if err != nil {
			return err
		}
		r.recordRound(nil)
		if n == r.Batch {
			continue
		}
		r.watchStream(ctx)
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
// commits events (Store.InTx), when the broker reconnects, or after Poll,
// whichever comes first.
func (r *Relay) wait(ctx context.Context, conn *pgxpool.Conn) error {
	waitCtx, cancel := context.WithTimeout(ctx, r.Poll)
	defer cancel()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-r.store.wake:
			cancel()
		case <-r.watch.wake:
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
// published. Rows whose publish failed stay unpublished, free for the next
// round, and the first failure is returned.
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	rows, err := r.claim(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	results := r.publishAll(ctx, rows)
	faults.Crash(faults.RelayAfterPublish)
	var acked, all []int64
	var failure error
	for i, row := range rows {
		all = append(all, row.seq)
		if results[i].err != nil {
			failure = cmp.Or(failure, results[i].err)
			continue
		}
		acked = append(acked, row.seq)
	}
	// The body stays for the store's Keep (sealed, where the store seals)
	// so that an event the broker loses can be published again; prune
	// drops it after that.
	if _, err := r.pool.Exec(ctx, `UPDATE `+r.store.table+` SET claimed_until = NULL,
		published_at = CASE WHEN seq = ANY($1) THEN now() ELSE published_at END WHERE seq = ANY($2)`, acked, all); err != nil {
		return 0, fmt.Errorf("marking %d events published: %w", len(acked), err)
	}
	r.reportPublished(rows, results)
	return len(acked), failure
}

// claim leases up to Batch unpublished rows that no other relay holds, in
// one statement, and returns them in outbox order.
func (r *Relay) claim(ctx context.Context) ([]pendingRow, error) {
	rows, err := r.pool.Query(ctx, `WITH free AS (
			SELECT seq FROM `+r.store.table+`
			WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
			ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
		UPDATE `+r.store.table+` o SET claimed_until = now() + make_interval(secs => $2)
		FROM free WHERE o.seq = free.seq
		RETURNING o.seq, o.subject, o.event`, r.Batch, r.Lease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("claiming outbox rows: %w", err)
	}
	out, err := r.scanRows(ctx, rows)
	if err != nil {
		// A row that cannot be decoded holds the whole batch back, as it
		// would hold back the order of publishing; free the claim and
		// say so.
		r.release(out)
		return nil, err
	}
	return out, nil
}

func (r *Relay) scanRows(ctx context.Context, rows pgx.Rows) ([]pendingRow, error) {
	defer rows.Close()
	var out []pendingRow
	var bad error
	for rows.Next() {
		var row pendingRow
		var body []byte
		if err := rows.Scan(&row.seq, &row.subject, &body); err != nil {
			return out, fmt.Errorf("scanning outbox: %w", err)
		}
		var err error
		if row.event, err = r.store.decode(ctx, body); err != nil {
			bad = cmp.Or(bad, fmt.Errorf("outbox row %d holds a bad event: %w", row.seq, err))
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("reading outbox: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, bad
}

// release frees the lease of rows claimed but not published.
func (r *Relay) release(rows []pendingRow) {
	if len(rows) == 0 {
		return
	}
	seqs := make([]int64, len(rows))
	for i, row := range rows {
		seqs[i] = row.seq
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.pool.Exec(ctx, `UPDATE `+r.store.table+` SET claimed_until = NULL WHERE seq = ANY($1)`, seqs); err != nil {
		r.log.Warn("freeing claimed rows; their lease runs out instead", zap.Error(err))
	}
}

// result is what became of one publish.
type result struct {
	err       error
	duplicate bool
	sequence  uint64
}

// publishAll publishes rows in order with at most MaxPending in flight and
// waits for every acknowledgement, so that a batch costs about one round
// trip to the broker rather than one per event.
func (r *Relay) publishAll(ctx context.Context, rows []pendingRow) []result {
	results := make([]result, len(rows))
	futures := make([]jetstream.PubAckFuture, len(rows))
	// One deadline for the batch's acknowledgements: once it passes,
	// every publish still unacknowledged has failed.
	ackCtx, cancel := context.WithTimeout(ctx, r.AckTimeout)
	defer cancel()
	waited := 0
	for i, row := range rows {
		for ; i-waited >= max(r.MaxPending, 1); waited++ {
			results[waited] = r.await(ackCtx, futures[waited])
		}
		f, err := r.publisher.PublishAsync(row.event, row.subject)
		if err != nil {
			results[i].err = err
			continue
		}
		futures[i] = f
	}
	for ; waited < len(rows); waited++ {
		results[waited] = r.await(ackCtx, futures[waited])
	}
	for i := range results {
		if results[i].err == nil && !results[i].duplicate {
			r.watch.acked(results[i].sequence)
		}
	}
	return results
}

// errAckTimeout is a publish whose acknowledgement did not come in time.
var errAckTimeout = errors.New("timed out waiting for the publish acknowledgement")

// await waits for f's acknowledgement until ctx ends. A nil f is a publish
// that failed to start, already recorded.
func (r *Relay) await(ctx context.Context, f jetstream.PubAckFuture) result {
	if f == nil {
		return result{err: errors.New("publish not started")}
	}
	if !awaitAcks {
		return result{}
	}
	select {
	case ack := <-f.Ok():
		return result{duplicate: ack.Duplicate, sequence: ack.Sequence}
	case err := <-f.Err():
		return result{err: fmt.Errorf("publishing %s: %w", f.Msg().Header.Get("ce-id"), err)}
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return result{err: errAckTimeout}
		}
		return result{err: ctx.Err()}
	}
}

// reportPublished tells OnPublished of every acknowledged event and logs
// how many the stream already held.
func (r *Relay) reportPublished(rows []pendingRow, results []result) {
	duplicates := 0
	for i, row := range rows {
		if results[i].err != nil {
			continue
		}
		if results[i].duplicate {
			duplicates++
		}
		if r.OnPublished != nil {
			r.OnPublished(row.subject, row.event, results[i].duplicate)
		}
	}
	if duplicates > 0 {
		// The stream recognised these by Nats-Msg-Id: an earlier run of
		// the relay published them but did not live to mark them sent.
		r.log.Info("stream already held re-published events", zap.Int("duplicates", duplicates))
	}
}

// watch is what the relay knows of the broker: when it last saw it well,
// the highest sequence it acknowledged, and the stream's creation time, so
// that a restart or a stream that moved back can be told.
type watch struct {
	mu sync.Mutex
	// due, when set, is the earliest publish time from which rows must be
	// published again.
	due time.Time
	// highest is the highest stream sequence acknowledged since the last
	// look at the stream; created is the stream's creation time then.
	highest uint64
	created time.Time
	// lastGood is when the stream was last read and found whole;
	// nextLook is when to read it again.
	lastGood, nextLook time.Time
	wake               chan struct{}
}

package auditlog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
)

// ErrDiverged means the ledger no longer extends the last checkpoint: it
// was rewritten, truncated or restored from a backup. The checkpointer
// then signs nothing more until an operator has looked (see "After a
// restore" in the package documentation).
var ErrDiverged = errors.New("the ledger does not extend its last checkpoint")

// CheckpointerConfig says where and how often to checkpoint.
type CheckpointerConfig struct {
	// Dir is the checkpoint folder, outside the database.
	Dir string
	// Key signs every checkpoint.
	Key ed25519.PrivateKey
	// Every asks for a checkpoint once this many entries have been
	// appended since the last one.
	Every int64
	// Interval asks for a checkpoint this often when anything was
	// appended, so that a quiet ledger is still covered.
	Interval time.Duration
	// Segment is the most entries one checkpoint lists; 0 means
	// DefaultSegment.
	Segment int64
	Clock   clock.Clock
}

// Checkpointer writes signed checkpoints of the ledger.
type Checkpointer struct {
	pool *pgxpool.Pool
	cfg  CheckpointerConfig
	log  *zap.Logger

	mu      sync.Mutex
	last    *Checkpoint
	lastSeq atomic.Int64
	// lastAt is when the last checkpoint was signed, in Unix nanoseconds;
	// zero before the first.
	lastAt   atomic.Int64
	appended atomic.Int64
	kick     chan struct{}
}

// NewCheckpointer continues from the newest checkpoint in cfg.Dir, after
// verifying every checkpoint there with the key's public half.
func NewCheckpointer(pool *pgxpool.Pool, cfg CheckpointerConfig, log *zap.Logger) (*Checkpointer, error) {
	cps, err := ReadCheckpoints(cfg.Dir, cfg.Key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	c := &Checkpointer{pool: pool, cfg: cfg, log: log, kick: make(chan struct{}, 1)}
	if n := len(cps); n > 0 {
		c.last = cps[n-1].Checkpoint
		c.lastSeq.Store(c.last.Seq)
		c.lastAt.Store(c.last.Time.UnixNano())
	}
	return c, nil
}

// Appended tells the checkpointer that entry seq was committed. It never
// blocks the append path.
func (c *Checkpointer) Appended(seq int64) {
	c.appended.Store(seq)
	if c.cfg.Every > 0 && seq-c.lastSeq.Load() >= c.cfg.Every {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// Last is the sequence number the newest checkpoint covers and when it was
// signed; ok is false before the first, for metrics and health.
func (c *Checkpointer) Last() (seq int64, at time.Time, ok bool) {
	n := c.lastAt.Load()
	if n == 0 {
		return 0, time.Time{}, false
	}
	return c.lastSeq.Load(), time.Unix(0, n), true
}

// Run checkpoints every Interval and whenever Every entries have been
// appended, until ctx ends. The caller writes a last checkpoint once
// appends have stopped.
func (c *Checkpointer) Run(ctx context.Context) error {
	tick := time.NewTicker(c.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-c.kick:
		}
		if _, err := c.Checkpoint(ctx); err != nil {
			c.log.Error("ledger checkpoint failed", zap.Error(err))
		}
	}
}

// Checkpoint signs and writes a checkpoint of the ledger as it stands now,
// and returns it; it returns nil when nothing was appended since the last
// one. It first recomputes every entry since the last checkpoint, so that
// it never signs a chain that is already broken. After a bulk load the
// entries since the last checkpoint are signed Segment at a time, and the
// checkpoint returned is the last, which reaches the head.
func (c *Checkpointer) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	var last *Checkpoint
	for {
		cp, more, err := c.checkpoint(ctx)
		if err != nil {
			return nil, err
		}
		if cp != nil {
			last = cp
		}
		if !more {
			return last, nil
		}
	}
}

// segment is the most entries one checkpoint lists. A checkpoint holds the
// hash of every entry it covers, in memory and in its file, so a bulk load
// of millions of entries is signed in pieces rather than in one checkpoint
// the size of the load.
func (c *Checkpointer) segment() int64 {
	if c.cfg.Segment > 0 {
		return c.cfg.Segment
	}
	return DefaultSegment
}

// checkpoint signs the next checkpoint, if anything was appended since the
// last, and says whether entries beyond it remain to be signed.
func (c *Checkpointer) checkpoint(ctx context.Context) (cp *Checkpoint, more bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, err := c.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, false, fmt.Errorf("starting checkpoint snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	cp, more, err = c.next(ctx, tx)
	if cp == nil || err != nil {
		return nil, false, err
	}
	signed, err := cp.Sign(c.cfg.Key)
	if err != nil {
		return nil, false, err
	}
	if _, err := WriteCheckpoint(c.cfg.Dir, cp.Seq, signed); err != nil {
		return nil, false, err
	}
	c.last = cp
	c.lastSeq.Store(cp.Seq)
	c.lastAt.Store(cp.Time.UnixNano())
	return cp, more, nil
}

// DefaultSegment is how many entries one checkpoint lists at most, unless
// CheckpointerConfig.Segment says otherwise.
const DefaultSegment = 10_000

// next builds the checkpoint that follows the last one, or nil if the
// ledger has not grown, and says whether the head lies beyond it.
func (c *Checkpointer) next(ctx context.Context, q Querier) (*Checkpoint, bool, error) {
	head, err := ReadHead(ctx, q)
	if err != nil {
		return nil, false, err
	}
	from, prev := int64(0), Genesis
	if c.last != nil {
		from, prev = c.last.Seq, c.last.Hash
	}
	switch {
	case head.Seq < from:
		return nil, false, fmt.Errorf("%w: the head row counts %d entries, the checkpoint %d", ErrDiverged, head.Seq, from)
	case head.Seq == from && !bytes.Equal(head.Hash, prev):
		return nil, false, fmt.Errorf("%w: entry %d's hash has changed", ErrDiverged, from)
	case head.Seq == from:
		return nil, false, nil
	}
	upTo := min(head.Seq, from+c.segment())
	hashes, err := segmentHashes(ctx, q, from, upTo, prev, head)
	if err != nil {
		return nil, false, err
	}
	return &Checkpoint{Origin: Origin, Seq: upTo, Hash: hashes[len(hashes)-1], Time: c.cfg.Clock.Now().UTC(),
		First: from + 1, Hashes: hashes}, upTo < head.Seq, nil
}

// segmentHashes recomputes entries from+1 to upTo, linking to prev, and
// returns their hashes. A segment that ends at the head must end in the
// head's hash.
func segmentHashes(ctx context.Context, q Querier, from, upTo int64, prev []byte, head Head) ([][]byte, error) {
	ch := &checker{next: from + 1, prev: prev}
	hashes := make([][]byte, 0, upTo-from)
	err := ScanEntries(ctx, q, from, upTo, func(e Entry) error {
		if p := ch.add(e); p != nil {
			return fmt.Errorf("%w: %w", ErrDiverged, p)
		}
		hashes = append(hashes, ch.prev)
		return nil
	})
	if err != nil {
		return nil, err
	}
	end := head
	if upTo < head.Seq {
		end = Head{Seq: upTo, Hash: ch.prev}
	}
	if p := ch.finish(end, nil); p != nil {
		return nil, fmt.Errorf("%w: %w", ErrDiverged, p)
	}
	return hashes, nil
}

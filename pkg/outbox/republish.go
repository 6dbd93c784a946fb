package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// A broker that syncs its store to disk on a timer (a short sync_interval
// instead of `always`) acknowledges writes that an operating-system crash
// or a power cut can still take away: those acknowledged within the sync
// interval before it. PostgreSQL, which syncs every commit, is then the
// point of durability: every outbox row keeps its body for the store's
// Keep, and the relay publishes again, from its outbox, every row it
// published within Horizon before any moment the broker may have lost
// writes. It suspects that moment
//
//   - when it starts, counting back from the last publish (the broker may
//     have gone down with this process, as in a power cut);
//   - when its connection to the broker drops and comes back, counting
//     back from the drop (the broker restarted);
//   - when the events stream's last sequence is below one the relay was
//     acknowledged, or the stream was created anew since it last looked,
//     counting back from that look.
//
// What the broker kept carries the same Nats-Msg-Id and is dropped by the
// stream's duplicate window (longer than Horizon); anything older than the
// window that comes again is dropped by the consumers' inboxes.

// acked notes a stream sequence the broker acknowledged storing.
func (w *watch) acked(seq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.highest = max(w.highest, seq)
}

// dueFrom asks for every row published at or after from to be published
// again, and wakes the relay.
func (w *watch) dueFrom(from time.Time) {
	w.mu.Lock()
	if w.due.IsZero() || from.Before(w.due) {
		w.due = from
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// takeDue returns the pending re-publish time, if any.
func (w *watch) takeDue() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.due
}

// done clears the pending re-publish if nothing earlier was asked for
// meanwhile.
func (w *watch) done(from time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.due.Before(from) {
		w.due = time.Time{}
	}
}

// watchConnection follows the broker connection's state until the returned
// function is called: a drop and a reconnect make the rows published from
// Horizon before the drop due again.
func (r *Relay) watchConnection() func() {
	nc := r.publisher.Conn()
	if nc == nil {
		return func() {}
	}
	changes := nc.StatusChanged(nats.DISCONNECTED, nats.RECONNECTING, nats.CONNECTED)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var down time.Time
		for status := range changes {
			switch {
			case status != nats.CONNECTED:
				if down.IsZero() {
					down = time.Now()
				}
			case !down.IsZero():
				r.log.Info("broker connection back; publishing again what it may have lost",
					zap.Duration("down", time.Since(down).Round(time.Millisecond)))
				r.watch.dueFrom(down.Add(-r.Horizon))
				down = time.Time{}
			}
		}
	}()
	return func() {
		nc.RemoveStatusListener(changes)
		<-done
	}
}

// dueFromLastPublish makes the rows published within Horizon of the
// outbox's last publish due again.
func (r *Relay) dueFromLastPublish(ctx context.Context) error {
	var last *time.Time
	if err := r.pool.QueryRow(ctx, `SELECT max(published_at) FROM `+r.store.table).Scan(&last); err != nil {
		return fmt.Errorf("reading the last publish: %w", err)
	}
	if last != nil {
		r.watch.dueFrom(last.Add(-r.Horizon))
	}
	return nil
}

// watchStream reads the events stream's state, at most every WatchEvery,
// and makes the horizon due again if the stream moved back or was created
// anew since it was last seen whole. A relay not permitted to read the
// stream's state relies on its connection alone.
func (r *Relay) watchStream(ctx context.Context) {
	w := &r.watch
	now := time.Now()
	w.mu.Lock()
	if now.Before(w.nextLook) {
		w.mu.Unlock()
		return
	}
	w.nextLook = now.Add(r.WatchEvery)
	lastGood, highest, created := w.lastGood, w.highest, w.created
	w.mu.Unlock()
	lookCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := r.publisher.StreamInfo(lookCtx)
	if err != nil {
		// Down, frozen, gone or not permitted: the connection's state,
		// the publishes themselves and the next look tell the rest.
		r.log.Debug("reading the stream's state", zap.Error(err))
		return
	}
	movedBack := info.State.LastSeq < highest
	anew := !created.IsZero() && !info.Created.Equal(created)
	if (movedBack || anew) && !lastGood.IsZero() {
		r.log.Warn("the events stream moved back; publishing again what it may have lost",
			zap.Uint64("last_sequence", info.State.LastSeq), zap.Uint64("acknowledged", highest), zap.Bool("created_anew", anew))
		w.dueFrom(lastGood.Add(-r.Horizon))
	}
	w.mu.Lock()
	w.lastGood, w.created, w.highest = now, info.Created, info.State.LastSeq
	w.mu.Unlock()
}

// republishDue publishes again the rows the watch made due, if any.
func (r *Relay) republishDue(ctx context.Context) error {
	from := r.watch.takeDue()
	if from.IsZero() {
		return nil
	}
	if !republishes {
		r.watch.done(from)
		return nil
	}
	restored, duplicates, err := r.Republish(ctx, from)
	if err != nil {
		return err
	}
	r.watch.done(from)
	if restored > 0 {
		r.log.Warn("the broker had lost published events; published them again from the outbox",
			zap.Int("restored", restored), zap.Time("published_since", from))
	}
	if duplicates > 0 {
		r.log.Info("stream already held re-published events", zap.Int("duplicates", duplicates))
	}
	return nil
}

// Republish publishes again every row published at or after from whose
// body is kept, in outbox order, a batch at a time, and returns how many
// the stream stored anew (it had lost them) and how many it already held.
func (r *Relay) Republish(ctx context.Context, from time.Time) (restored, duplicates int, err error) {
	var after int64
	for {
		rows, err := r.published(ctx, from, after)
		if err != nil || len(rows) == 0 {
			return restored, duplicates, err
		}
		for i, res := range r.publishAll(ctx, rows) {
			switch {
			case res.err != nil:
				return restored, duplicates, fmt.Errorf("publishing event again: %w", res.err)
			case res.duplicate:
				duplicates++
			default:
				restored++
			}
			after = rows[i].seq
		}
	}
}

// published reads up to Batch rows published at or after from, past seq
// after, whose bodies are kept.
func (r *Relay) published(ctx context.Context, from time.Time, after int64) ([]pendingRow, error) {
	rows, err := r.pool.Query(ctx, `SELECT seq, subject, event FROM `+r.store.table+`
		WHERE published_at >= $1 AND seq > $2 AND event <> ''::bytea ORDER BY seq LIMIT $3`, from, after, r.Batch)
	if err != nil {
		return nil, fmt.Errorf("reading published rows: %w", err)
	}
	return r.scanRows(ctx, rows)
}

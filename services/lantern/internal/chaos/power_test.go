package chaos_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
)

// powerLossFaults is F21, the approximation of a power cut (F11 needs
// LazyFS, which these machines lack): the broker is killed with SIGKILL
// and its newest message blocks are cut back to the sizes they had one
// sync interval before the kill, which is the most an operating-system
// crash can take from a broker that syncs on that timer. The broker then
// restarts on the damaged store. The outbox relays must notice and publish
// again what the stream lost, with no reconciliation run: every notice
// acknowledged with 202 is delivered once, none twice.
func powerLossFaults(p profile) []fault {
	return []fault{
		{id: "F21", title: "power loss approximated: kill -9 the broker, cut its message blocks back to what it had synced, restart",
			inject: powerLoss(p.repeats), check: powerLossRepaired},
	}
}

// blockSample is the size of one message block at a moment.
type blockSample struct {
	at    time.Time
	sizes map[string]int64
}

// blockWatch samples the sizes of the events stream's message blocks
// until stopped, so that a kill can be followed by cutting every block
// back to its size one sync interval earlier.
type blockWatch struct {
	mu      sync.Mutex
	samples []blockSample
	stop    func()
}

func (r *run) watchBlocks() *blockWatch {
	w := &blockWatch{}
	dir := filepath.Join(r.streamDir(), "msgs")
	w.stop = clock.Every(10*time.Millisecond, func() {
		s := blockSample{at: time.Now(), sizes: blockSizes(dir)}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.samples = append(w.samples, s)
		// Ten seconds of samples are plenty for any interval Lantern
		// allows.
		if len(w.samples) > 1000 {
			w.samples = slices.Delete(w.samples, 0, len(w.samples)-1000)
		}
	})
	return w
}

func blockSizes(dir string) map[string]int64 {
	sizes := map[string]int64{}
	blocks, _ := filepath.Glob(filepath.Join(dir, "*.blk"))
	for _, b := range blocks {
		if info, err := os.Stat(b); err == nil {
			sizes[b] = info.Size()
		}
	}
	return sizes
}

// before stops sampling and returns the last sample taken at or before t.
func (w *blockWatch) before(t time.Time) (blockSample, bool) {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.samples) - 1; i >= 0; i-- {
		if !w.samples[i].at.After(t) {
			return w.samples[i], true
		}
	}
	return blockSample{}, false
}

// powerLoss kills the broker under load, repeats times, cuts its blocks
// back to what it had synced and restarts it.
func powerLoss(repeats int) func(*run) {
	return func(r *run) {
		nats := r.c.NATSName()
		interval := r.c.NATSSync
		if interval == 0 {
			// A broker that syncs every write loses nothing to a power
			// cut, so the fault runs its broker on the default timer and
			// puts the run's own setting back after it.
			interval = natsembed.DefaultSyncInterval
			r.syncEvery(interval)
			defer r.syncEvery(0)
			r.waitAcked(r.p.warmup / 2)
		}
		for i := range repeats {
			if i > 0 {
				r.waitAcked(r.p.warmup / 2)
			}
			// Sampling must cover more than a sync interval before the
			// kill, and the kill lands at a random moment after that.
			w := r.watchBlocks()
			r.hold(interval + r.between(100*time.Millisecond, 600*time.Millisecond))
			what := "kill -9 " + nats + " (power cut)"
			if i == 0 {
				r.faultStarts(what)
			} else {
				r.mark(what)
			}
			r.c.Kill(nats)
			killed := time.Now()
			synced, ok := w.before(killed.Add(-interval))
			if !ok {
				r.t.Fatalf("no block sample from %s before the kill", interval)
			}
			cut := cutBlocks(r, synced)
			r.cut += cut
			r.mark(fmt.Sprintf("cut %d bytes off the message blocks: their sizes %s before the kill", cut, interval))
			r.restart(nats)
		}
		r.faultEnds("broker back on the cut store")
	}
}

// syncEvery restarts the broker with the sync interval d (zero: every
// write), stopping it cleanly first so that nothing is lost by the change.
func (r *run) syncEvery(d time.Duration) {
	r.c.Stop(r.c.NATSName())
	r.c.NATSSync = d
	r.restart(r.c.NATSName())
	r.mark(fmt.Sprintf("broker restarted syncing %s", natsembed.FormatSync(d)))
}

// cutBlocks truncates every block to its size in the sample; a block made
// after the sample loses everything. It returns the bytes cut.
func cutBlocks(r *run, synced blockSample) int64 {
	var cut int64
	for path, size := range blockSizes(filepath.Join(r.streamDir(), "msgs")) {
		keep := synced.sizes[path] // zero for a block made since
		if size <= keep {
			continue
		}
		if err := os.Truncate(path, keep); err != nil {
			r.t.Fatal(err)
		}
		cut += size - keep
	}
	return cut
}

// powerLossRepaired checks F21's promise beyond the common targets (0
// acknowledged notices lost, 0 duplicate effects, with no reconciliation):
// the cut took events from the stream, and the relays published them
// again.
func powerLossRepaired(r *run, f chaos.Figures, _ []*chaos.Submission) {
	r.noteBrokerLog()
	restored := 0
	for name, now := range r.tallyLogs() {
		restored += now.Minus(r.logs[name]).Restored
	}
	r.note("bytes cut off the blocks: %d; events the relays found lost and published again: %d", r.cut, restored)
	if r.cut == 0 {
		r.t.Errorf("the cut took nothing: no block grew in the sync interval before the kill, so the fault was not exercised")
	}
	if r.cut > 0 && restored == 0 {
		r.t.Errorf("%d bytes of acknowledged events were cut and no relay published anything again", r.cut)
	}
}

package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// corruptionFaults are F14: with the broker stopped, one of the events
// stream's files is damaged, and the broker started again. Delivery is
// stopped first, so that the damaged part of the stream holds events no
// consumer has applied yet: what JetStream drops there is lost unless
// Lantern notices. After the restart the run prints what the broker said
// and the stream's state, counts and names what the checker finds
// missing, runs `lantern reconcile` (which re-publishes, from the outboxes,
// every event a consumer never applied) and then checks as every fault
// does: nothing acknowledged may stay lost.
func corruptionFaults() []fault {
	return []fault{
		{id: "F14/block-bitflip", title: "one bit flipped in the events stream's last message block, broker stopped",
			inject: corrupt(flipBit, lastBlock), check: corruptionReported},
		{id: "F14/block-truncate", title: "the tail of the events stream's last message block cut off, broker stopped",
			inject: corrupt(truncateTail, lastBlock), check: corruptionReported},
		{id: "F14/meta", title: "one bit flipped in the events stream's meta file (meta.inf), broker stopped",
			inject: corrupt(flipBit, streamFile("meta.inf")), check: corruptionReported},
	}
}

// streamDir is the events stream's folder in the broker's store.
func (r *run) streamDir() string {
	return filepath.Join(r.c.NATSStore(), "jetstream", r.c.NATSAccount, "streams", bus.EventsStream)
}

// lastBlock is the stream's newest message block: where unconsumed
// events are.
func lastBlock(r *run) string {
	blocks, _ := filepath.Glob(filepath.Join(r.streamDir(), "msgs", "*.blk"))
	if len(blocks) == 0 {
		r.t.Fatalf("no message blocks in %s", r.streamDir())
	}
	slices.SortFunc(blocks, func(a, b string) int { return blockIndex(a) - blockIndex(b) })
	return blocks[len(blocks)-1]
}

func blockIndex(path string) int {
	var n int
	_, _ = fmt.Sscanf(filepath.Base(path), "%d.blk", &n)
	return n
}

func streamFile(name string) func(*run) string {
	return func(r *run) string { return filepath.Join(r.streamDir(), name) }
}

// flipBit flips one random bit in the second half of the file, where the
// newest records are, and says where.
func flipBit(r *run, path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		r.t.Fatalf("reading %s: %v (%d bytes)", path, err, len(data))
	}
	off := len(data)/2 + r.rng.IntN(len(data)-len(data)/2)
	bit := r.rng.IntN(8)
	data[off] ^= 1 << bit
	if err := os.WriteFile(path, data, 0o640); err != nil {
		r.t.Fatal(err)
	}
	return fmt.Sprintf("flipped bit %d of byte %d of %d in %s", bit, off, len(data), filepath.Base(path))
}

// truncateTail cuts between a tenth and a third of the file off its end.
func truncateTail(r *run, path string) string {
	info, err := os.Stat(path)
	if err != nil {
		r.t.Fatal(err)
	}
	size := info.Size()
	cut := size/10 + r.rng.Int64N(size/3-size/10+1)
	if err := os.Truncate(path, size-cut); err != nil {
		r.t.Fatal(err)
	}
	return fmt.Sprintf("cut the last %d of %d bytes off %s", cut, size, filepath.Base(path))
}

// corrupt stops delivery until a backlog builds, stops the broker, damages
// the chosen file, restarts both, and runs Lantern's reconciliation.
func corrupt(damage func(*run, string) string, file func(*run) string) func(*run) {
	return func(r *run) {
		r.faultStarts("stop delivery (SIGTERM) so that unconsumed events pile up in the stream")
		r.c.Stop("delivery")
		r.waitAcked(r.p.backlog)
		r.waitRouted()
		// Everything these notices caused is in the stream or applied.
		settled := r.load.Snapshot()
		before, _ := r.streamState()
		r.c.Stop(r.c.NATSName())
		r.mark("broker stopped (SIGTERM) with the stream at " + before)
		r.mark(damage(r, file(r)))
		r.restart(r.c.NATSName())
		r.redeclareIfDropped()
		restarted := time.Now()
		after, lastSeq := r.streamState()
		r.note("stream before the damage: %s; after the restart: %s", before, after)
		r.t.Logf("stream before the damage: %s; after the restart: %s", before, after)
		r.t.Cleanup(func() {
			if r.t.Failed() {
				for _, line := range interesting(r.c.Log(r.c.NATSName()), r.brokerLogFrom, brokerSignals, 20) {
					r.t.Logf("broker log: %s", line)
				}
			}
		})
		r.restart("delivery")
		r.waitQuiet(restarted, lastSeq)
		r.noteLossesBeforeRepair(settled)
		r.reconcile()
		r.faultEnds("reconciled")
	}
}

// redeclareIfDropped provisions the streams and consumers again, as after
// a first install, and restarts every running service to bind to them,
// when the broker dropped the events stream (as it does when the stream's
// meta file fails its checksum).
func (r *run) redeclareIfDropped() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := r.broker.JS.Stream(ctx, bus.EventsStream)
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return
	}
	r.note("the broker dropped the events stream with everything in it (%v); it was provisioned again and every service restarted to bind to it", err)
	r.mark("events stream gone after the restart: provision again, restart every service")
	r.c.Provision()
	for _, name := range cluster.Pipeline {
		if name == "delivery" {
			continue // stopped; it starts later
		}
		r.c.Stop(name)
		r.restart(name)
	}
	r.c.WaitHealthy()
}

// waitRouted waits until the router has published the notifications of
// every notice acknowledged so far: then the stream holds them, waiting
// for delivery.
func (r *run) waitRouted() {
	r.t.Helper()
	natstest.CheckFor(r.t, r.p.settle, 100*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var n int
		err := r.c.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM intake.incidents i WHERE NOT EXISTS
			(SELECT 1 FROM router.cases c WHERE c.incident_id = i.incident_id))
			+ (SELECT count(*) FROM intake.outbox WHERE published_at IS NULL)
			+ (SELECT count(*) FROM router.outbox WHERE published_at IS NULL)`).Scan(&n)
		if err == nil && n > 0 {
			err = fmt.Errorf("%d notices not routed and published yet", n)
		}
		return err
	})
}

// streamState describes the events stream as the broker reports it, and
// returns its last sequence.
func (r *run) streamState() (string, uint64) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var info *jetstream.StreamInfo
	natstest.CheckFor(r.t, 30*time.Second, 100*time.Millisecond, func() error {
		s, err := r.broker.JS.Stream(ctx, bus.EventsStream)
		if err != nil {
			return err
		}
		info, err = s.Info(ctx)
		return err
	})
	st := info.State
	return fmt.Sprintf("%d messages, sequences %d to %d, %d deleted", st.Msgs, st.FirstSeq, st.LastSeq, st.NumDeleted), st.LastSeq
}

// waitQuiet waits, within the settle time, until every outbox row written
// before the restart is published and every consumer has acknowledged the
// stream up to its last sequence after the restart: what is missing then
// was lost, not late. The load goes on meanwhile; later notices do not
// count.
func (r *run) waitQuiet(restarted time.Time, lastSeq uint64) {
	r.t.Helper()
	natstest.CheckFor(r.t, r.p.settle, 250*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var pending int
		if err := r.c.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM intake.outbox WHERE published_at IS NULL AND created_at <= $1)
			+ (SELECT count(*) FROM router.outbox WHERE published_at IS NULL AND created_at <= $1)
			+ (SELECT count(*) FROM delivery.outbox WHERE published_at IS NULL AND created_at <= $1)`, restarted).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return fmt.Errorf("%d outbox rows from before the restart unpublished", pending)
		}
		for _, name := range chaos.Consumers {
			c, err := r.broker.JS.Consumer(ctx, bus.EventsStream, name)
			if err != nil {
				return err
			}
			info, err := c.Info(ctx)
			if err != nil {
				return err
			}
			if info.AckFloor.Stream < lastSeq {
				return fmt.Errorf("consumer %s has acknowledged up to %d of %d", name, info.AckFloor.Stream, lastSeq)
			}
		}
		return nil
	})
	r.mark("every consumer past the stream's end at the restart")
}

// noteLossesBeforeRepair records what the damage lost of the notices
// settled before it, by id, before Lantern repairs it.
func (r *run) noteLossesBeforeRepair(subs []*chaos.Submission) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lost, err := r.checker.Lost(ctx, subs)
	if err != nil {
		r.t.Fatal(err)
	}
	r.lostBeforeRepair = lost.Total()
	r.note("before reconciling, the checker finds %d losses", lost.Total())
	if lost.Total() == 0 {
		return
	}
	names, err := r.checker.NameLost(ctx, subs, 20)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, name := range names {
		r.note("lost before reconciling: %s", name)
	}
}

// reconcile runs `lantern reconcile` as an operator would after an
// incident, with no grace: the pipeline is quiet.
func (r *run) reconcile() {
	r.t.Helper()
	cmd := exec.Command(cluster.Binary("lantern"), "reconcile", "--grace", "0s",
		"--database-url", r.c.DatabaseURL, "--nats-url", r.c.NATSURL)
	cmd.Env = append(os.Environ(), "LANTERN_NATS_CREDS_DIR="+r.c.CredsDir, "LANTERN_NATS_CA="+r.c.NATSCA, r.c.KEKEnv())
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("lantern reconcile: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	r.mark("lantern reconcile: " + lines[len(lines)-1])
	for _, line := range lines[:min(len(lines)-1, 10)] {
		r.note("reconcile: %s", line)
	}
}

// corruptionReported checks F14's promise beyond the common targets (which
// require 0 acknowledged notices lost after reconciling): the broker's own
// account of the damage is printed.
func corruptionReported(r *run, _ chaos.Figures, _ []*chaos.Submission) {
	r.noteBrokerLog()
	r.note("losses found before reconciling: %d; after: counted in the figures", r.lostBeforeRepair)
}

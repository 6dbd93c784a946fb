package natscluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// pipelineRun is the whole Lantern, every service, on a three-broker
// JetStream cluster, under a steady feed of notices through the gateway.
type pipelineRun struct {
	t  *testing.T
	c  *cluster.Cluster
	js jetstream.JetStream
	// views holds a JetStream context per broker, each connected to that
	// broker alone, for asking one side of a partition.
	views   map[string]jetstream.JetStream
	broker  chaos.Broker
	checker *chaos.Checker
	load    *chaos.Workload
	started time.Time
}

// minAcked is the fewest notices a run must have acknowledged under the
// feed for its checks to mean anything.
const minAcked = 20

// noQuorumFor is how long the second broker stays down, the streams
// without a quorum; partitionFor how long the partition lasts.
func noQuorumFor() time.Duration { return pick(2*time.Second, 15*time.Second) }

func partitionFor() time.Duration { return pick(6*time.Second, 45*time.Second) }

// pick is short under make test and long under make chaos.
func pick(short, long time.Duration) time.Duration {
	if os.Getenv("LANTERN_CHAOS") == "long" {
		return long
	}
	return short
}

// startPipeline starts every service against three brokers and checks
// that the streams stayed at the three replicas provisioning set: no
// service start may reset them.
func startPipeline(t *testing.T, tag string) *pipelineRun {
	t.Helper()
	began := time.Now()
	c := cluster.New(t, cluster.Options{NATSNodes: 3, Services: topology.Names()})
	t.Logf("every service up on three brokers after %s", time.Since(began).Round(time.Millisecond))
	js, err := jetstream.New(c.ConnectNATS(natsauth.Provisioner))
	if err != nil {
		t.Fatal(err)
	}
	r := &pipelineRun{t: t, c: c, js: js, broker: chaos.Broker{JS: js}, checker: &chaos.Checker{Pool: c.Pool}}
	r.views = make(map[string]jetstream.JetStream)
	for _, name := range c.NATSNodes() {
		if r.views[name], err = jetstream.New(c.ConnectNATSNode(natsauth.Provisioner, name)); err != nil {
			t.Fatal(err)
		}
	}
	r.checkReplicas(3)
	// A rate two cores keep up with while running three brokers, every
	// service and PostgreSQL: faster, and the figures would measure the
	// backlog of a saturated machine rather than the faults.
	if r.load, err = chaos.NewFeed(filepath.Join(cluster.Root(), "reference"), tag, []string{c.BaseURL}, cluster.PoliceToken, 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.load.Abort(); _, _ = r.load.Stop() })
	return r
}

// checkReplicas fails unless every stream has want replicas.
func (r *pipelineRun) checkReplicas(want int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := 0
	for info := range r.js.ListStreams(ctx).Info() {
		n++
		if info.Config.Replicas != want {
			r.t.Errorf("stream %s has %d replicas after every service started, want %d", info.Config.Name, info.Config.Replicas, want)
		}
	}
	if n == 0 {
		r.t.Fatal("no streams listed")
	}
}

// feed starts the notices and waits until the pipeline carries them to
// the ledger.
func (r *pipelineRun) feed() {
	r.t.Helper()
	r.started = time.Now()
	r.load.Start()
	from := r.seq()
	r.since("the ledger recording the feed", time.Now(), func() bool { return r.seq() > from+20 })
}

// seq is the ledger's head, or -1 when it cannot be read.
func (r *pipelineRun) seq() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := r.checker.LedgerSeq(ctx)
	if err != nil {
		return -1
	}
	return s
}

func (r *pipelineRun) leader() string { return r.leaderSeenWithout("") }

// leaderUnderFeed starts the feed, lets it run, and returns the events
// stream's leader: the broker a fault is then done to.
func (r *pipelineRun) leaderUnderFeed() string {
	r.t.Helper()
	r.feed()
	soak()
	l := r.leader()
	if l == "" {
		r.t.Fatal("the events stream has no leader")
	}
	return l
}

// leaderSeenWithout is the events stream's leader as the first broker
// other than except that answers sees it. A broker cut off by a partition
// still answers its own clients with the leader it last knew, so the test
// asks each of the others over a connection of its own.
func (r *pipelineRun) leaderSeenWithout(except string) string {
	for _, name := range r.c.NATSNodes() {
		if name == except {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		l := cluster.StreamLeader(ctx, r.views[name])
		cancel()
		if l != "" {
			return l
		}
	}
	return ""
}

// since polls cond until it holds and returns how long after from it
// held; the run fails when it does not within three minutes.
func (r *pipelineRun) since(what string, from time.Time, cond func() bool) time.Duration {
	r.t.Helper()
	for !cond() {
		if time.Since(from) > 3*time.Minute {
			r.t.Fatalf("%s: not within 3m", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(from)
}

// advanced waits until the ledger records more events than it held at
// from, and returns how long that took.
func (r *pipelineRun) advanced(what string, from time.Time) time.Duration {
	r.t.Helper()
	base := r.seq()
	return r.since(what, from, func() bool { s := r.seq(); return s > base+5 })
}

// caughtUp reports whether the events stream has a leader and both other
// replicas are current with nothing left to apply: no lasting split.
func (r *pipelineRun) caughtUp() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := r.js.Stream(ctx, "LANTERN_EVENTS")
	if err != nil || s.CachedInfo().Cluster == nil || s.CachedInfo().Cluster.Leader == "" {
		return false
	}
	peers := s.CachedInfo().Cluster.Replicas
	for _, p := range peers {
		if !p.Current || p.Offline || p.Lag != 0 {
			return false
		}
	}
	return len(peers) == 2
}

// finish stops the feed, waits for the pipeline to settle and checks
// that every acknowledged notice went all the way through exactly once.
func (r *pipelineRun) finish() {
	r.t.Helper()
	from := r.seq()
	r.since("the ledger recording after the faults", time.Now(), func() bool { return r.seq() > from+20 })
	r.since(fmt.Sprintf("%d notices acknowledged", minAcked), time.Now(), func() bool { return r.load.Acked() >= minAcked })
	subs, err := r.load.Stop()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.checker.Settle(r.broker, 5*time.Minute); err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, err := r.checker.Check(ctx, subs)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Logf("after %s: %s", time.Since(r.started).Round(time.Second), v)
	for _, f := range v.Failures() {
		r.t.Error(f)
	}
	if v.Acked < minAcked {
		r.t.Errorf("only %d notices acknowledged under the feed", v.Acked)
	}
}

// TestPipelineSurvivesLeaderAndSecondNodeKilled is fault F1 on a cluster
// with the whole pipeline: every service runs against three brokers with
// Lantern's accounts while notices arrive steadily through the gateway.
// The events stream's leader is killed with SIGKILL, then a second broker
// briefly (the streams lose their quorum), then both are restarted. No
// notice acknowledged with 202 may be lost and no effect recorded twice;
// the leader change and the recoveries are printed.
func TestPipelineSurvivesLeaderAndSecondNodeKilled(t *testing.T) {
	r := startPipeline(t, "F1c")
	first := r.leaderUnderFeed()
	killed := time.Now()
	r.c.Kill(first)
	elected := r.since("a new leader", killed, func() bool { l := r.leader(); return l != "" && l != first })
	resumed := r.advanced("the ledger recording after the leader died", killed)
	t.Logf("F1 cluster: killed the leader %s; %s leads after %s; the ledger recorded again %s after the kill",
		first, r.leader(), elected.Round(time.Millisecond), resumed.Round(time.Millisecond))

	var second string
	for _, name := range r.c.NATSNodes() {
		if name != first {
			second = name
			break
		}
	}
	r.c.Kill(second)
	<-time.After(noQuorumFor())
	restarted := time.Now()
	r.c.StartNATSNode(second)
	r.c.StartNATSNode(first)
	quorum := r.since("a leader after both restarted", restarted, func() bool { return r.leader() != "" })
	recovered := r.advanced("the ledger recording after both restarted", restarted)
	current := r.since("every replica current", restarted, r.caughtUp)
	t.Logf("F1 cluster: killed %s too for %s (no quorum) and restarted both: a leader after %s; the ledger recorded again after %s; all three replicas current after %s",
		second, noQuorumFor(), quorum.Round(time.Millisecond), recovered.Round(time.Millisecond), current.Round(time.Millisecond))
	soak()
	r.checkReplicas(3)
	r.finish()
}

// TestPipelineSurvivesPartition is fault F9 on a cluster: the events
// stream's leader is cut off from both other brokers while the feed goes
// on, and the partition healed. The partition cuts the routes between the
// brokers: each route passes through a TCP proxy of its own (Toxiproxy),
// and the proxies of the cut broker's routes close their connections and
// refuse new ones. Network namespaces are not used: the brokers and the
// services all listen on loopback, and a proxy cuts one broker off without
// touching the machine's own network. The cut broker's clients stay
// connected to it, as they would across a real partition.
func TestPipelineSurvivesPartition(t *testing.T) {
	r := startPipeline(t, "F9c")
	t.Log("F9 cluster: partition made by cutting the route proxies between brokers (TCP close and refuse), not network namespaces")
	cut := r.leaderUnderFeed()
	parted := time.Now()
	r.c.Partition(cut)
	var majority string
	elected := r.since("a leader on the majority side", parted, func() bool {
		majority = r.leaderSeenWithout(cut)
		return majority != "" && majority != cut
	})
	t.Logf("F9 cluster: cut %s (the leader) off; %s leads after %s", cut, majority, elected.Round(time.Millisecond))
	during := r.seq()
	<-time.After(partitionFor())
	during = r.seq() - during
	healed := time.Now()
	r.c.Heal()
	recovered := r.advanced("the ledger recording after the partition healed", healed)
	current := r.since("every replica current", healed, r.caughtUp)
	t.Logf("F9 cluster: healed after %s, in which the ledger recorded %d events; after healing it recorded again within %s; all three replicas current after %s",
		partitionFor(), during, recovered.Round(time.Millisecond), current.Round(time.Millisecond))
	soak()
	r.finish()
}

package e2e_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// replicaWindow is how long each throughput figure is measured over.
const replicaWindow = 4 * time.Second

// meter measures the pipeline's throughput: notices acknowledged and
// events the ledger recorded, per second over a window.
type meter struct {
	t       *testing.T
	load    *chaos.Workload
	checker *chaos.Checker
}

type rate struct{ acked, events float64 }

func (r rate) String() string {
	return fmt.Sprintf("%5.1f notices/s, %6.1f events/s", r.acked, r.events)
}

// over measures for d.
func (m meter) over(d time.Duration) rate {
	m.t.Helper()
	a0, e0, t0 := m.load.Acked(), m.seq(), time.Now()
	<-time.After(d)
	a1, e1, secs := m.load.Acked(), m.seq(), time.Since(t0).Seconds()
	return rate{acked: float64(a1-a0) / secs, events: float64(e1-e0) / secs}
}

func (m meter) seq() int64 {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := m.checker.LedgerSeq(ctx)
	if err != nil {
		m.t.Fatal(err)
	}
	return s
}

// TestTwoReplicasOfEveryServiceSurviveKills runs two replicas of every
// service: two gateways, each forwarding notices to an intake of its own,
// and two of each consuming service sharing its durable consumer and
// outbox. Notices arrive steadily, alternating between the gateways (a
// police system with two addresses, moving on to the other when one does
// not answer). One replica of each service in turn is killed with SIGKILL
// and, after a while, started again. Nothing acknowledged may be lost or
// applied twice, and throughput, measured before, during and after each
// kill, must come back: the ledger records events again in every window
// after a restart.
func TestTwoReplicasOfEveryServiceSurviveKills(t *testing.T) {
	c := cluster.New(t, cluster.Options{Services: topology.Names()})
	intake2 := c.StartReplica("intake", 2)
	gateway2 := c.StartReplica("gateway", 2, "GATEWAY_ROUTES="+c.Layout.WithHTTP("intake", c.ReplicaHTTP(intake2)).Routes())
	for _, name := range []string{"router", "delivery", "ledger", "escalation", "workspace"} {
		c.StartReplica(name, 2)
	}
	js, err := jetstream.New(c.ConnectNATS(natsauth.Provisioner))
	if err != nil {
		t.Fatal(err)
	}
	checker := &chaos.Checker{Pool: c.Pool}
	load := replicaFeed(t, []string{c.BaseURL, "http://" + c.ReplicaHTTP(gateway2)})
	m := meter{t: t, load: load, checker: checker}
	load.Start()
	var table strings.Builder
	before := m.over(replicaWindow)
	fmt.Fprintf(&table, "%-28s %s\n", "both replicas of each", before)
	for _, name := range topology.Names() {
		c.Kill(name)
		during := m.over(replicaWindow)
		c.Start(name)
		c.WaitHealthy()
		after := m.over(replicaWindow)
		fmt.Fprintf(&table, "%-28s %s\n%-28s %s\n", "one "+name+" killed", during, name+" started again", after)
		if after.events == 0 {
			t.Errorf("the ledger recorded nothing in the %s after %s was started again", replicaWindow, name)
		}
	}
	subs, err := load.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("throughput over %s windows, one replica of each service killed with SIGKILL in turn:\n%s", replicaWindow, table.String())
	if err := checker.Settle(chaos.Broker{JS: js}, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, err := checker.Check(ctx, subs)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(v)
	for _, f := range v.Failures() {
		t.Error(f)
	}
	if v.Acked < 20 {
		t.Errorf("only %d notices acknowledged under the feed", v.Acked)
	}
}

// replicaFeed offers notices at a steady rate through the given gateways.
func replicaFeed(t *testing.T, gateways []string) *chaos.Workload {
	t.Helper()
	load, err := chaos.NewFeed(filepath.Join(cluster.Root(), "reference"), "replicas", gateways, cluster.PoliceToken, 1.5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { load.Abort(); _, _ = load.Stop() })
	return load
}

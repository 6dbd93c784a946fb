package e2e_test

import (
	"sync"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// TestTwoReplicasOfEveryServiceSurviveKills runs a second replica of every
// service behind the gateway and, under a steady feed of notices, kills
// one replica of each consuming service with SIGKILL in turn: the other
// replica carries on from the shared durable consumer and outbox, and
// nothing accepted is lost or applied twice.
func TestTwoReplicasOfEveryServiceSurviveKills(t *testing.T) {
	services := append(append([]string(nil), cluster.Pipeline...), "escalation", "workspace")
	c := cluster.New(t, cluster.Options{Services: services})
	p := pipeline{Cluster: c, t: t}
	for _, name := range []string{"intake", "router", "delivery", "ledger", "escalation", "workspace"} {
		c.StartReplica(name, 2)
	}
	var (
		mu       sync.Mutex
		accepted []string
	)
	bodies := make([][]byte, 400)
	for i := range bodies {
		bodies[i] = policyPPN(t, 70000+i, "standard", 3)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, body := range bodies {
			select {
			case <-stop:
				return
			default:
			}
			res, err := c.Post(body)
			if err == nil && res.Status == 202 {
				id, _ := res.Body["incident_id"].(string)
				mu.Lock()
				accepted = append(accepted, id)
				mu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	for _, name := range []string{"router", "delivery", "ledger", "escalation", "workspace"} {
		time.Sleep(time.Second)
		c.Kill(name)
		t.Logf("killed one %s replica; its other replica carries on", name)
	}
	time.Sleep(time.Second)
	close(stop)
	<-done
	if len(accepted) < 10 {
		t.Fatalf("only %d notices accepted under the feed", len(accepted))
	}
	for _, id := range accepted {
		recipients := p.decided(id)
		p.settled(id, len(wantFlow(len(recipients))))
	}
	p.assertExactlyOnce()
	t.Logf("%d notices accepted through kills of one replica of each service; none lost, none doubled", len(accepted))
}

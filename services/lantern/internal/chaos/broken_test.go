package chaos_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// TestCheckerCatchesBrokenRelay proves that the checks can fail: the
// services are built with the lantern_broken_relay tag, whose outbox relay
// marks rows published without waiting for the broker's acknowledgement.
// The intake's link to the broker is then black-holed for a while (F8's
// fault, which the real build survives with nothing lost), so events sent
// meanwhile vanish, and the checker must report those notices lost and
// name them.
func TestCheckerCatchesBrokenRelay(t *testing.T) {
	c := cluster.New(t, cluster.Options{Proxied: true, BuildTags: "lantern_broken_relay",
		Env: []string{"INTAKE_STORE_TIMEOUT=" + storeTimeout.String(), "GOMAXPROCS=1"}})
	ref, err := refdata.Load(filepath.Join(cluster.Root(), "reference"))
	if err != nil {
		t.Fatal(err)
	}
	gen, err := chaos.NewGenerator(ref, fmt.Sprintf("broken-%d", time.Now().UnixNano()), 1, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	client := &chaos.Client{BaseURL: c.BaseURL, Token: cluster.PoliceToken, HTTP: &http.Client{Timeout: hangAfter + 10*time.Second},
		RetryFor: time.Minute, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, Rand: chaos.LockedRand(1)}
	load := chaos.NewWorkload(gen, client, shortProfile.rate, shortProfile.workers)
	t.Cleanup(func() { load.Abort(); _, _ = load.Stop() })
	load.Start()
	waitAcked(t, load, 5)

	link := findLink(t, c, "intake", cluster.UpstreamNATS)
	for _, stream := range bothWays {
		if _, err := link.Proxy.AddToxic("blackhole_"+stream, "timeout", stream, 1, toxiproxy.Attributes{"timeout": 0}); err != nil {
			t.Fatal(err)
		}
	}
	waitAcked(t, load, 10)
	if err := c.Proxies().Reset(); err != nil {
		t.Fatal(err)
	}
	// Notices after the fault go through, so once they have been routed
	// anything still missing is gone for good.
	waitAcked(t, load, 10)
	subs, err := load.Stop()
	if err != nil {
		t.Fatal(err)
	}
	checker := &chaos.Checker{Pool: c.Pool}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	broker := brokerOf(t, c)
	natstest.CheckFor(t, 2*time.Minute, 250*time.Millisecond, func() error { return quiet(ctx, c, broker, subs) })

	lost, err := checker.Lost(ctx, subs)
	if err != nil {
		t.Fatal(err)
	}
	names, err := checker.NameLost(ctx, subs, 1000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with the broken relay the checker finds %d losses: %d notices acknowledged and stored but never routed, %d not in the ledger; the first named: %v",
		lost.Total(), lost.StoredNotRouted, lost.StoredNotLedger, names[:min(4, len(names))])
	if lost.StoredNotRouted == 0 || lost.StoredNotLedger == 0 {
		t.Errorf("the checker found no notice lost behind the broken relay (lost %+v)", lost)
	}
	if len(names) < lost.StoredNotRouted+lost.StoredNotLedger {
		t.Errorf("the checker named %d losses, fewer than the %d it counted", len(names), lost.StoredNotRouted+lost.StoredNotLedger)
	}
}

func waitAcked(t *testing.T, load *chaos.Workload, n int) {
	t.Helper()
	want := load.Acked() + n
	natstest.CheckFor(t, 2*time.Minute, 50*time.Millisecond, func() error {
		if got := load.Acked(); got < want {
			return fmt.Errorf("%d of %d notices acknowledged", got, want)
		}
		return nil
	})
}

func findLink(t *testing.T, c *cluster.Cluster, service, upstream string) cluster.Link {
	t.Helper()
	for _, l := range c.Proxies().Links(upstream) {
		if l.Service == service {
			return l
		}
	}
	t.Fatalf("no link from %s to %s", service, upstream)
	return cluster.Link{}
}

func brokerOf(t *testing.T, c *cluster.Cluster) chaos.Broker {
	t.Helper()
	nc := c.ConnectNATS(natsauth.Provisioner)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return chaos.Broker{JS: js}
}

// quiet reports nil once the last notice acknowledged has been routed,
// every outbox is empty and no consumer has anything outstanding: what
// is missing then is lost for good.
func quiet(ctx context.Context, c *cluster.Cluster, broker chaos.Broker, subs []*chaos.Submission) error {
	var last string
	for _, s := range subs {
		if s.Outcome == chaos.OK {
			last = s.IncidentID
		}
	}
	var routed bool
	var pending int
	err := c.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM router.cases WHERE incident_id = $1),
		(SELECT count(*) FROM intake.outbox WHERE published_at IS NULL)
		+ (SELECT count(*) FROM router.outbox WHERE published_at IS NULL)
		+ (SELECT count(*) FROM delivery.outbox WHERE published_at IS NULL)`, last).Scan(&routed, &pending)
	switch {
	case err != nil:
		return err
	case !routed || pending > 0:
		return fmt.Errorf("last notice routed %t, %d outbox rows unpublished", routed, pending)
	}
	return broker.Idle(ctx)
}

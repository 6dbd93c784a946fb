package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// usesDatabase and usesBroker are the services whose readiness must follow
// PostgreSQL and NATS; the gateway holds neither.
var (
	usesDatabase = []string{"intake", "router", "delivery", "ledger", "escalation", "workspace"}
	usesBroker   = usesDatabase
)

// TestReadinessFollowsPostgresAndTheBroker stops PostgreSQL, then the
// broker, under every service, and requires each service that depends on it
// to answer /readyz with 503 and a reason naming it, to stay alive on
// /healthz meanwhile, and to be ready again once the server is back.
func TestReadinessFollowsPostgresAndTheBroker(t *testing.T) {
	c := cluster.New(t, cluster.Options{Services: topology.Names(), OwnPostgres: true})
	ctx := context.Background()

	t.Run("postgres", func(t *testing.T) {
		if err := c.PG.Kill(); err != nil {
			t.Fatal(err)
		}
		requireUnready(t, c, usesDatabase, "postgres")
		if err := c.PG.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		c.WaitHealthy()
	})
	t.Run("broker", func(t *testing.T) {
		c.Kill(c.NATSName())
		requireUnready(t, c, usesBroker, "nats")
		c.StartNATS()
		c.WaitHealthy()
	})
}

// requireUnready waits until every named service reports the named check
// failing, and checks that every service stays alive meanwhile.
func requireUnready(t *testing.T, c *cluster.Cluster, services []string, check string) {
	t.Helper()
	for _, name := range services {
		c.WaitFor(60*time.Second, func() error {
			err := c.Ready(name)
			if err == nil {
				return fmt.Errorf("%s still ready with %s down", name, check)
			}
			if !strings.Contains(err.Error(), `"name":"`+check+`","ok":false,"reason":"`) {
				return fmt.Errorf("%s not ready, but not for %s: %v", name, check, err)
			}
			return nil
		})
	}
	for _, name := range topology.Names() {
		if err := c.Alive(name); err != nil {
			t.Errorf("with %s down: %v", check, err)
		}
	}
}

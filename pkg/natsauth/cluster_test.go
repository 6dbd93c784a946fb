package natsauth_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/lantern-safeguarding/lantern/pkg/freeport"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// startFromConfig runs a server from a configuration file made of Lantern's
// accounts and a cluster block, as an operator installs them.
func startFromConfig(t *testing.T, a *natsauth.Authority, name string, cluster string) *server.Server {
	t.Helper()
	accounts, err := a.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name+".conf")
	conf := fmt.Sprintf("server_name: %q\nlisten: \"127.0.0.1:-1\"\njetstream { store_dir: %q }\n%s%s", name, t.TempDir(), accounts, cluster)
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatalf("%s not ready", name)
	}
	return srv
}

// TestClusterRoutesAuthenticate: two servers with the printed configuration
// form a route; a server that does not hold the route password does not.
func TestClusterRoutesAuthenticate(t *testing.T) {
	a, err := natsauth.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ports := freeport.For(t, 3)
	p1, p2 := ports[0], ports[1]
	route := func(p int) string { return fmt.Sprintf("nats-route://127.0.0.1:%d", p) }
	c1, err := a.ClusterConfig("lantern", fmt.Sprintf("127.0.0.1:%d", p1), []string{route(p2)}, "")
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := a.ClusterConfig("lantern", fmt.Sprintf("127.0.0.1:%d", p2), []string{route(p1)}, "")
	s1 := startFromConfig(t, a, "n1", c1)
	s2 := startFromConfig(t, a, "n2", c2)
	natstest.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		if s1.NumRoutes() == 0 || s2.NumRoutes() == 0 {
			return fmt.Errorf("routes: %d and %d", s1.NumRoutes(), s2.NumRoutes())
		}
		return nil
	})
	// A stranger dialling n1 with a wrong password is refused.
	stranger := strings.Replace(c2, "listen: \""+fmt.Sprintf("127.0.0.1:%d", p2)+"\"", fmt.Sprintf("listen: \"127.0.0.1:%d\"", ports[2]), 1)
	pw, _ := a.RoutePassword()
	stranger = strings.ReplaceAll(stranger, pw, "wrong-password")
	s3 := startFromConfig(t, a, "n3", stranger)
	// Give the stranger time to try. Counts of routes are no guide: n1's
	// pooled routes to n2 keep arriving after the first, and a refused
	// attempt shows as a route for the moment before its handshake fails.
	// A route that has lasted half a second has passed the handshake.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		toStranger, fromStranger := lastingRoutes(t, s1, s3.ID()), lastingRoutes(t, s3, "")
		if toStranger > 0 || fromStranger > 0 {
			t.Fatalf("a server without the route password joined: n1 has %d routes to it, the stranger %d in all", toStranger, fromStranger)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lastingRoutes counts srv's routes older than half a second whose far end
// is the server with id remote (any server when remote is empty).
func lastingRoutes(t *testing.T, srv *server.Server, remote string) int {
	t.Helper()
	rz, err := srv.Routez(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rz.Routes {
		if (remote == "" || r.RemoteID == remote) && rz.Now.Sub(r.Start) > 500*time.Millisecond {
			n++
		}
	}
	return n
}

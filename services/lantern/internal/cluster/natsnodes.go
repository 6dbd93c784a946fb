package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/natscmd"
)

// natsNode is one member of a JetStream cluster: a lantern-nats process
// with its own client port, store, store key and configuration.
type natsNode struct {
	name               string
	port               int
	store, key, config string
}

// routeLink is the proxy carrying one member's route to another.
type routeLink struct {
	from, to string
	proxy    *toxiproxy.Proxy
}

// startNATSCluster runs n brokers as one JetStream cluster with Lantern's
// accounts and authenticated routes, each its own process, and provisions
// the streams at n replicas as `lantern nats provision --replicas` does.
//
// Every member's route to every other passes through a Toxiproxy proxy of
// its own, so that a member can be cut off from the rest (Partition): a
// partition made by closing TCP connections and refusing new ones, not by
// network namespaces.
func (c *Cluster) startNATSCluster(n int) {
	c.t.Helper()
	dir, err := os.MkdirTemp("", "lantern-cluster-nats-")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = os.RemoveAll(dir) })
	auth, err := natsauth.Prepare(filepath.Join(dir, "auth"))
	if err != nil {
		c.t.Fatal(err)
	}
	c.CredsDir, c.NATSAccount = auth.Dir(), auth.AccountPublicKey()
	accounts, err := auth.ServerConfig()
	if err != nil {
		c.t.Fatal(err)
	}
	ports, routePorts := FreePorts(c.t, n), FreePorts(c.t, n)
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("nats-%d", i+1)
	}
	toxi := c.startToxiproxy()
	routes := make([][]string, n)
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			listen := fmt.Sprintf("127.0.0.1:%d", FreePorts(c.t, 1)[0])
			p, err := toxi.CreateProxy(names[i]+"->"+names[j], listen, fmt.Sprintf("127.0.0.1:%d", routePorts[j]))
			if err != nil {
				c.t.Fatalf("creating the route proxy %s->%s: %v", names[i], names[j], err)
			}
			c.routeLinks = append(c.routeLinks, routeLink{from: names[i], to: names[j], proxy: p})
			routes[i] = append(routes[i], "nats-route://"+listen)
		}
	}
	var urls []string
	for i, name := range names {
		// The advertised route address leads nowhere: a member told of
		// another by gossip would otherwise dial its real route port,
		// around the proxy, and a partition would leave that link up.
		// Every member lists every other, so gossip has nothing to add.
		block, err := auth.ClusterConfig("lantern", fmt.Sprintf("127.0.0.1:%d", routePorts[i]), routes[i], "  advertise: \"127.0.0.1:1\"\n")
		if err != nil {
			c.t.Fatal(err)
		}
		node := &natsNode{name: name, port: ports[i], store: filepath.Join(dir, name, "js"),
			key: filepath.Join(dir, name+"-store.key"), config: filepath.Join(dir, name+".conf")}
		conf := fmt.Sprintf("server_name: %q\n%s\n%s", name, accounts, block)
		if err := os.WriteFile(node.config, []byte(conf), 0o600); err != nil {
			c.t.Fatal(err)
		}
		c.natsNodes = append(c.natsNodes, node)
		urls = append(urls, node.url())
	}
	for _, name := range names {
		c.StartNATSNode(name)
	}
	c.NATSURL = strings.Join(urls, ",")
	c.provisionReplicated(n)
}

// provisionReplicated declares the streams at replicas, trying again while
// the cluster forms and elects its meta leader.
func (c *Cluster) provisionReplicated(replicas int) {
	c.t.Helper()
	c.WaitFor(2*time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return natscmd.Provision(ctx, c.NATSURL, c.CredsDir, "", clusterAckWait, replicas)
	})
}

// NATSNodes names the members of the cluster's JetStream cluster, or
// nothing when it runs one broker.
func (c *Cluster) NATSNodes() []string {
	var names []string
	for _, n := range c.natsNodes {
		names = append(names, n.name)
	}
	return names
}

// url is the member's client address.
func (n *natsNode) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

// natsNode is the named member of the broker cluster.
func (c *Cluster) natsNode(name string) *natsNode {
	c.t.Helper()
	for _, n := range c.natsNodes {
		if n.name == name {
			return n
		}
	}
	c.t.Fatalf("no broker %s", name)
	return nil
}

// StartNATSNode (re)starts the named member on its port, store and key.
func (c *Cluster) StartNATSNode(name string) {
	c.t.Helper()
	node := c.natsNode(name)
	// Every member syncs every write, as the reliability plan runs a
	// replicated stream: a quorum's acknowledgement is then on two disks.
	args := []string{"-port", strconv.Itoa(node.port), "-store", node.store, "-config", node.config, "-key-file", node.key,
		"-sync-interval", natsembed.FormatSync(0)}
	c.startBinary(name, "lantern-nats", args, nil)
	c.waitListening(node.port)
}

// Partition cuts the named member off from every other: each route
// between them, both ways, is closed and refused until Heal. Its clients
// stay connected to it.
func (c *Cluster) Partition(name string) {
	c.t.Helper()
	for _, l := range c.routeLinks {
		if l.from == name || l.to == name {
			if err := l.proxy.Disable(); err != nil {
				c.t.Fatalf("cutting the route %s->%s: %v", l.from, l.to, err)
			}
		}
	}
}

// Heal opens every route again.
func (c *Cluster) Heal() {
	c.t.Helper()
	for _, l := range c.routeLinks {
		if err := l.proxy.Enable(); err != nil {
			c.t.Fatalf("opening the route %s->%s: %v", l.from, l.to, err)
		}
	}
}

// StreamLeader is the member leading the events stream, or "" while it
// has none.
func StreamLeader(ctx context.Context, js jetstream.JetStream) string {
	s, err := js.Stream(ctx, bus.EventsStream)
	if err != nil || s.CachedInfo().Cluster == nil {
		return ""
	}
	return s.CachedInfo().Cluster.Leader
}

package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/lantern-safeguarding/lantern/pkg/devtls"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/natscmd"
)

// natsProcess is the broker's key among the cluster's processes.
const natsProcess = "nats"

// startNATS runs the broker as its own process, built from the pinned
// nats-server module like every service. Keeping it out of the test process
// means it can be killed or paused, and that the race detector watches
// Lantern's code rather than the broker's internals (nats-server has known
// benign reports when several clients create streams at once).
func (c *Cluster) startNATS(tlsOn bool) {
	// The broker syncs as make run's does: on a short timer unless
	// LANTERN_NATS_SYNC_INTERVAL says otherwise.
	syncInterval, err := natsembed.SyncFromEnv()
	if err != nil {
		c.t.Fatal(err)
	}
	c.NATSSync = syncInterval
	store, err := os.MkdirTemp("", "lantern-cluster-nats-")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = os.RemoveAll(store) })
	port := FreePorts(c.t, 1)[0]
	c.natsPort = port
	c.natsStore = filepath.Join(store, "js")
	c.natsKey = filepath.Join(store, "js-store.key")
	c.NATSURL = fmt.Sprintf("nats://127.0.0.1:%d", port)
	auth, err := natsauth.Prepare(filepath.Join(store, "auth"))
	if err != nil {
		c.t.Fatal(err)
	}
	c.CredsDir = auth.Dir()
	c.NATSAccount = auth.AccountPublicKey()
	var tlsFiles *devtls.Files
	if tlsOn {
		if tlsFiles, err = natscmd.TLSFiles(filepath.Join(store, "tls")); err != nil {
			c.t.Fatal(err)
		}
		c.NATSCA = tlsFiles.CA
		c.NATSURL = fmt.Sprintf("tls://127.0.0.1:%d", port)
	}
	if c.natsConfig, err = natscmd.WriteServerConfig(auth, tlsFiles); err != nil {
		c.t.Fatal(err)
	}
	c.StartNATS()
	// The provisioner declares the streams and consumers once, as make
	// run does; every service binds to them with its own identity.
	c.Provision()
}

// Provision declares the streams and every consumer as the provisioner,
// as `lantern nats provision` does.
func (c *Cluster) Provision() {
	c.t.Helper()
	if err := natscmd.Provision(context.Background(), c.NATSURL, c.CredsDir, c.NATSCA, clusterAckWait, 1); err != nil {
		c.t.Fatalf("provisioning the cluster's broker: %v", err)
	}
}

// ConnectNATS connects the test to the cluster's broker as identity
// (natsauth.Provisioner to read and inspect everything, natsauth.Observer
// to read sg.>), reconnecting for as long as the test runs.
func (c *Cluster) ConnectNATS(identity string, opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	return c.connectNATS(c.NATSURL, identity, opts...)
}

func (c *Cluster) connectNATS(url, identity string, opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	auth, err := natsauth.ClientOptions(identity, c.CredsDir, c.NATSCA)
	if err != nil {
		c.t.Fatal(err)
	}
	nc, err := nats.Connect(url, append(append(auth, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond)), opts...)...)
	if err != nil {
		c.t.Fatalf("connecting to the cluster's NATS as %s: %v", identity, err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// ConnectNATSNode connects as identity to the named member of the
// broker cluster and to no other: not to the rest of the cluster's URLs,
// nor to servers it is told of. Its reconnects go back to that member.
func (c *Cluster) ConnectNATSNode(identity, name string) *nats.Conn {
	c.t.Helper()
	return c.connectNATS(c.natsNode(name).url(), identity, nats.IgnoreDiscoveredServers())
}

// StartNATS (re)starts the broker process on its port and store, so that
// clients reconnect to the same stream data.
func (c *Cluster) StartNATS() {
	c.t.Helper()
	// The store key sits outside the store, as make run keeps it.
	args := []string{"-port", strconv.Itoa(c.natsPort), "-store", c.NATSStore(), "-config", c.natsConfig, "-key-file", c.natsKey,
		"-sync-interval", natsembed.FormatSync(c.NATSSync)}
	c.startBinary(natsProcess, "lantern-nats", args, nil)
	c.waitListening(c.natsPort)
}

// waitListening waits until a broker accepts connections on port.
func (c *Cluster) waitListening(port int) {
	c.t.Helper()
	c.WaitFor(30*time.Second, func() error {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// NATSName is the name to Kill, Pause or Resume the broker process by.
func (c *Cluster) NATSName() string { return natsProcess }

// NATSStore is the broker's JetStream store directory.
func (c *Cluster) NATSStore() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.natsStore
}

// MoveNATSStore makes the broker use dir as its store from its next start;
// the caller moves the data. Faults use it to put the store on a small
// filesystem and back.
func (c *Cluster) MoveNATSStore(dir string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.natsStore = dir
}

// Pid is the process id of the named process, or 0 when it is not running.
func (c *Cluster) Pid(name string) int {
	if !c.Running(name) {
		return 0
	}
	return c.proc(name).cmd.Process.Pid
}

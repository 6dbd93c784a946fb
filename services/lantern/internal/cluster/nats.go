package cluster

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// natsProcess is the broker's key among the cluster's processes.
const natsProcess = "nats"

// startNATS runs the broker as its own process, built from the pinned
// nats-server module like every service. Keeping it out of the test process
// means it can be killed or paused, and that the race detector watches
// Lantern's code rather than the broker's internals (nats-server has known
// benign reports when several clients create streams at once).
func (c *Cluster) startNATS() {
	store, err := os.MkdirTemp("", "lantern-cluster-nats-")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = os.RemoveAll(store) })
	port := FreePorts(c.t, 1)[0]
	c.natsArgs = []string{"-port", strconv.Itoa(port), "-store", filepath.Join(store, "js")}
	c.NATSURL = fmt.Sprintf("nats://127.0.0.1:%d", port)
	c.StartNATS()
}

// StartNATS (re)starts the broker process on its port and store, so that
// clients reconnect to the same stream data.
func (c *Cluster) StartNATS() {
	c.t.Helper()
	c.startBinary(natsProcess, "lantern-nats", c.natsArgs, nil)
	c.WaitFor(30*time.Second, func() error {
		conn, err := net.DialTimeout("tcp", c.NATSURL[len("nats://"):], time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// NATSName is the name to Kill, Pause or Resume the broker process by.
func (c *Cluster) NATSName() string { return natsProcess }

package cluster

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// proc is one service process and everything it has printed.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start launches the named service (again, if it ran before) with the
// cluster's environment plus extraEnv.
func (c *Cluster) Start(name string, extraEnv ...string) {
	c.t.Helper()
	env := append(append(c.Env(), c.serviceEnv(name)...), c.linkEnv(name)...)
	c.startBinary(name, name, nil, append(env, extraEnv...))
}

// serviceEnv is what one service is told and the others must not be, as
// under make run: its addresses, its own database role and event id key. A service
// without a role (the gateway) is given no database at all.
func (c *Cluster) serviceEnv(name string) []string {
	db := c.DBRoles.Env(name)
	if db == nil {
		db = []string{"DATABASE_URL=", "DATABASE_OWNER_URL="}
	}
	if key := c.eventIDKeys[name]; key != "" {
		db = append(db, "LANTERN_EVENT_ID_KEY="+key)
	}
	return append(c.Layout.ServiceEnv(name), db...)
}

func (c *Cluster) startBinary(key, binary string, args, env []string) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(c.binDir, binary), args...)
	cmd.Env = append(os.Environ(), env...)
	// The service dies with the test process even if the test is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c.mu.Lock()
	prev := c.procs[key]
	c.mu.Unlock()
	log := &syncBuffer{}
	if prev != nil {
		log = prev.log
	}
	cmd.Stdout, cmd.Stderr = io.Writer(log), io.Writer(log)
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("starting %s: %v", key, err)
	}
	p := &proc{name: key, cmd: cmd, log: log, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	c.mu.Lock()
	c.procs[key] = p
	c.mu.Unlock()
}

func (c *Cluster) proc(name string) *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.procs[name]
	if p == nil {
		c.t.Fatalf("no process %s", name)
	}
	return p
}

// Stop ends a service with SIGTERM, as an orchestrator would, and waits.
func (c *Cluster) Stop(name string) {
	c.t.Helper()
	c.signal(name, syscall.SIGTERM)
	if err := c.WaitExit(name, 30*time.Second); err != nil && !isExit(err) {
		c.t.Fatalf("stopping %s: %v", name, err)
	}
}

// Kill ends a service with SIGKILL: no clean-up, no flushing.
func (c *Cluster) Kill(name string) {
	c.t.Helper()
	c.signal(name, syscall.SIGKILL)
	_ = c.WaitExit(name, 30*time.Second)
}

// Pause freezes a service with SIGSTOP; Resume thaws it.
func (c *Cluster) Pause(name string) { c.signal(name, syscall.SIGSTOP) }

// Resume thaws a paused service with SIGCONT.
func (c *Cluster) Resume(name string) { c.signal(name, syscall.SIGCONT) }

func (c *Cluster) signal(name string, sig syscall.Signal) {
	p := c.proc(name)
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		c.t.Logf("signalling %s: %v", name, err)
	}
}

// WaitExit waits for the named process to end and returns how it ended.
func (c *Cluster) WaitExit(name string, timeout time.Duration) error {
	p := c.proc(name)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %s", name, timeout)
	}
}

// Started reports whether the named process was ever started.
func (c *Cluster) Started(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[name] != nil
}

// Running reports whether the named process is alive.
func (c *Cluster) Running(name string) bool {
	p := c.proc(name)
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Log returns what the named process has printed.
func (c *Cluster) Log(name string) string { return c.proc(name).log.String() }

func isExit(err error) bool {
	_, ok := err.(*exec.ExitError)
	return ok
}

func (c *Cluster) stopAll() {
	c.mu.Lock()
	procs := make([]*proc, 0, len(c.procs))
	for _, p := range c.procs {
		procs = append(procs, p)
	}
	c.mu.Unlock()
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if c.t.Failed() {
			c.t.Logf("--- %s log ---\n%s", p.name, p.log.String())
		}
	}
}

// StartReplica launches another process of the named service, known to
// the cluster as name#n, on listeners of its own, with extraEnv added:
// replicas share the service's durable consumers, outbox and database. A
// replica started before starts again on the same listeners.
func (c *Cluster) StartReplica(name string, n int, extraEnv ...string) string {
	c.t.Helper()
	key := fmt.Sprintf("%s#%d", name, n)
	c.mu.Lock()
	own, known := c.replicaEnv[key]
	c.mu.Unlock()
	if !known {
		own = c.replicaListeners(key, name)
	}
	own = append(own, extraEnv...)
	c.mu.Lock()
	c.replicaEnv[key] = own
	c.mu.Unlock()
	env := append(append(c.Env(), c.serviceEnv(name)...), c.linkEnv(name)...)
	c.startBinary(key, name, nil, append(env, own...))
	return key
}

// replicaListeners places a replica's admin and public listeners on ports
// of their own and remembers the public one.
func (c *Cluster) replicaListeners(key, name string) []string {
	var own []string
	for _, s := range topology.Services {
		if s.Name != name {
			continue
		}
		ports := FreePorts(c.t, 2)
		own = append(own, fmt.Sprintf("%s=127.0.0.1:%d", s.AdminEnv, ports[0]))
		if s.HTTPEnv != "" {
			addr := fmt.Sprintf("127.0.0.1:%d", ports[1])
			own = append(own, s.HTTPEnv+"="+addr)
			c.mu.Lock()
			c.replicaHTTP[key] = addr
			c.mu.Unlock()
		}
	}
	return own
}

// ReplicaHTTP is where the replica known as key serves its public API.
func (c *Cluster) ReplicaHTTP(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.replicaHTTP[key]
}

package natscluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/freeport"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/natscmd"
)

// childEnv makes this test binary run one nats-server from a configuration
// file instead of the tests: each cluster member is a process of its own.
const childEnv = "LANTERN_TEST_NATS_SERVER_CONFIG"

func TestMain(m *testing.M) {
	if conf := os.Getenv(childEnv); conf != "" {
		runServer(conf)
		return
	}
	os.Exit(m.Run())
}

func runServer(conf string) {
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv.ConfigureLogger()
	srv.Start()
	srv.WaitForShutdown()
}

type member struct {
	name, conf string
	clientURL  string
	cmd        *exec.Cmd
}

// startCluster writes three servers' configurations, with Lantern's
// accounts and authenticated routes, and starts each as a process.
func startCluster(t *testing.T, credsDir string) []*member {
	t.Helper()
	auth, err := natsauth.Prepare(credsDir)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := auth.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	ports := freeport.For(t, 6)
	clientPorts, routePorts := ports[:3], ports[3:]
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	var members []*member
	for i := range 3 {
		block, err := auth.ClusterConfig("lantern", fmt.Sprintf("127.0.0.1:%d", routePorts[i]), routes, "")
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		m := &member{name: fmt.Sprintf("n%d", i+1), conf: filepath.Join(dir, "server.conf"),
			clientURL: fmt.Sprintf("nats://127.0.0.1:%d", clientPorts[i])}
		conf := fmt.Sprintf("server_name: %s\nhost: 127.0.0.1\nport: %d\njetstream { store_dir: %q, sync_interval: always }\n%s\n%s",
			m.name, clientPorts[i], filepath.Join(dir, "js"), accounts, block)
		if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
		m.start(t)
	}
	t.Cleanup(func() {
		for _, m := range members {
			m.kill()
		}
	})
	return members
}

func (m *member) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+m.conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m.cmd = cmd
}

func (m *member) kill() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
		_ = m.cmd.Wait()
		m.cmd = nil
	}
}

func urls(ms []*member) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.clientURL)
	}
	return strings.Join(out, ",")
}

func connectAs(t *testing.T, identity, credsDir, url string) jetstream.JetStream {
	t.Helper()
	opts, err := natsauth.ClientOptions(identity, credsDir, "")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, append(opts, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// feed publishes one notice id after another, each retried with the same
// Nats-Msg-Id until the stream acknowledges it, and records every
// acknowledged id and the longest time without an acknowledgement.
type feed struct {
	mu      sync.Mutex
	acked   []string
	longest time.Duration
}

func (f *feed) run(ctx context.Context, js jetstream.JetStream) {
	last := time.Now()
	for n := 0; ctx.Err() == nil; n++ {
		id := fmt.Sprintf("cluster-notice-%06d", n)
		for ctx.Err() == nil {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := js.Publish(pctx, "sg.incident.reported", []byte(id), jetstream.WithMsgID(id), jetstream.WithExpectStream(bus.EventsStream))
			cancel()
			if err == nil {
				f.mu.Lock()
				f.acked = append(f.acked, id)
				f.longest = max(f.longest, time.Since(last))
				f.mu.Unlock()
				last = time.Now()
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *feed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.acked)
}

// waitFor polls cond until it holds and returns how long that took.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func leader(js jetstream.JetStream) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s, err := js.Stream(ctx, bus.EventsStream)
	if err != nil || s.CachedInfo().Cluster == nil {
		return ""
	}
	return s.CachedInfo().Cluster.Leader
}

// soak lets the feed run steadily between faults in the long fault suite
// (make chaos); make test runs the faults back to back.
func soak() {
	if os.Getenv("LANTERN_CHAOS") == "long" {
		time.Sleep(30 * time.Second)
	}
}

// TestStreamSurvivesLeaderAndSecondNodeKilled is fault F1 on a cluster:
// under a steady feed, kill -9 the events stream's leader, then a second
// server briefly (the stream loses its quorum and stops acknowledging),
// then restart both. Every acknowledged notice must be in the stream
// exactly once. The leader change and the recoveries are printed.
func TestStreamSurvivesLeaderAndSecondNodeKilled(t *testing.T) {
	credsDir := t.TempDir()
	members := startCluster(t, credsDir)
	ctx := context.Background()
	// The cluster forms and elects a meta leader first; until then the
	// provisioning step's requests fail and are tried again.
	var lastErr error
	waitFor(t, "provisioning at three replicas", 120*time.Second, func() bool {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		lastErr = natscmd.Provision(pctx, urls(members), credsDir, "", 30*time.Second, 3)
		if lastErr != nil {
			t.Logf("provisioning: %v", lastErr)
		}
		return lastErr == nil
	})
	observer := connectAs(t, natsauth.Provisioner, credsDir, urls(members))
	s, err := observer.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("the events stream has %d replicas, want 3", r)
	}
	publisher := connectAs(t, "intake", credsDir, urls(members))
	var f feed
	feedCtx, stopFeed := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.run(feedCtx, publisher) }()
	waitFor(t, "a first acknowledged notice", 30*time.Second, func() bool { return f.count() > 20 })
	soak()

	byName := map[string]*member{}
	for _, m := range members {
		byName[m.name] = m
	}
	first := byName[leader(observer)]
	if first == nil {
		t.Fatalf("no leader for the events stream")
	}
	before := f.count()
	first.kill()
	newLeader := waitFor(t, "a new leader", 30*time.Second, func() bool { l := leader(observer); return l != "" && l != first.name })
	resumed := waitFor(t, "acknowledgements after the leader died", 30*time.Second, func() bool { return f.count() > before+10 })
	t.Logf("killed leader %s: new leader %s after %s; the feed acknowledged again within %s", first.name, leader(observer),
		newLeader.Round(time.Millisecond), (newLeader + resumed).Round(time.Millisecond))

	var second *member
	for _, m := range members {
		if m != first {
			second = m
			break
		}
	}
	second.kill()
	time.Sleep(2 * time.Second)
	before = f.count()
	second.start(t)
	first.start(t)
	recovered := waitFor(t, "acknowledgements after both restarted", 60*time.Second, func() bool { return f.count() > before+10 })
	t.Logf("killed %s too for 2s (no quorum), restarted both: the feed acknowledged again within %s", second.name, recovered.Round(time.Millisecond))
	soak()
	stopFeed()
	<-done
	t.Logf("longest wait for an acknowledgement: %s", f.longest.Round(time.Millisecond))
	checkExactlyOnce(t, observer, f.acked)
}

// checkExactlyOnce reads the whole stream back and finds every
// acknowledged id once, and nothing twice.
func checkExactlyOnce(t *testing.T, js jetstream.JetStream, acked []string) {
	t.Helper()
	var stored map[string]int
	// Each read gets its own deadline: a read begun while the restarted
	// servers are still catching up can hang until its context ends, and
	// the next one must not inherit a spent deadline.
	waitFor(t, "the stream to hold every acknowledged notice", 2*time.Minute, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stored = readAll(ctx, t, js)
		for _, id := range acked {
			if stored[id] == 0 {
				return false
			}
		}
		return true
	})
	lost, doubled := 0, 0
	for _, id := range acked {
		if stored[id] == 0 {
			lost++
		}
	}
	for _, n := range stored {
		if n > 1 {
			doubled++
		}
	}
	t.Logf("%d notices acknowledged; %d lost, %d stored twice", len(acked), lost, doubled)
	if lost != 0 || doubled != 0 {
		t.Errorf("%d acknowledged notices lost, %d stored twice", lost, doubled)
	}
}

func readAll(ctx context.Context, t *testing.T, js jetstream.JetStream) map[string]int {
	t.Helper()
	cons, err := js.OrderedConsumer(ctx, bus.EventsStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"sg.incident.reported"}})
	if err != nil {
		t.Logf("reading the stream: %v", err)
		return nil
	}
	out := map[string]int{}
	for {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			return out
		}
		n := 0
		for msg := range batch.Messages() {
			out[string(msg.Data())]++
			n++
		}
		if n == 0 {
			return out
		}
	}
}

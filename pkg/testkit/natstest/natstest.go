// Package natstest runs a real NATS server with JetStream inside the test
// process, so that tests exercise the same server Lantern runs in
// production rather than a stand-in.
//
// Every server listens on a random loopback port, keeps its streams in the
// test's temporary directory and syncs each write to disk, and is shut down
// when the test ends. Restart brings it back on the same port and store, so
// that tests can check what survives a server restart and that clients
// reconnect.
package natstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
)

// readyTimeout bounds the wait for a server to accept connections.
const readyTimeout = 10 * time.Second

// Option adjusts the server's options before it starts, and again before
// each restart.
type Option func(*server.Options)

// Server is an in-process NATS server owned by one test. Its methods are
// safe for concurrent use.
type Server struct {
	opts     []Option
	storeDir string
	port     int
	// config is a server configuration file the options start from, for
	// servers with Lantern's accounts (RunSecured).
	config string
	// storeKey encrypts the store, as every Lantern broker's is.
	storeKey string
	// auth signs the identities of a secured server; nil otherwise.
	auth *natsauth.Authority

	mu  sync.Mutex
	srv *server.Server
}

// RunServer starts a JetStream server for t and shuts it down when t ends.
func RunServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{opts: opts, storeDir: t.TempDir(), port: server.RANDOM_PORT, storeKey: randomKey(t)}
	s.start(t)
	t.Cleanup(s.Shutdown)
	return s
}

// URL is the address clients connect to. It does not change across
// restarts.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// StoreDir is where JetStream keeps its streams; it outlives restarts.
func (s *Server) StoreDir() string { return s.storeDir }

// NATS returns the running server, for tests that inspect it directly.
func (s *Server) NATS() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Restart shuts the server down and starts it again on the same port and
// store directory. Streams and their messages survive; connected clients
// see a disconnect and reconnect.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Shutdown()
	s.start(t)
}

// RestartAfter shuts the server down, calls damage with its store
// directory (to cut or change files as a crash would), and starts it again
// on the same port and store.
func (s *Server) RestartAfter(t testing.TB, damage func(storeDir string)) {
	t.Helper()
	s.Shutdown()
	damage(s.storeDir)
	s.start(t)
}

// Shutdown stops the server and waits until it has stopped. It is safe to
// call more than once.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.srv = nil
}

// Connect opens a client connection that keeps reconnecting, quickly, for
// as long as the test runs, and closes it when the test ends. Later options
// override the defaults.
func (s *Server) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	defaults := []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		nats.ReconnectJitter(0, 0),
	}
	nc, err := nats.Connect(s.URL(), append(defaults, opts...)...)
	if err != nil {
		t.Fatalf("natstest: connecting to %s: %v", s.URL(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	opts, err := s.options()
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: creating server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		srv.Shutdown()
		t.Fatalf("natstest: server on port %d not ready within %v", opts.Port, readyTimeout)
	}
	s.srv = srv
	s.port = srv.Addr().(*net.TCPAddr).Port
}

// options builds a fresh set of server options for every start, because
// the server keeps and changes the struct it is given.
func (s *Server) options() (*server.Options, error) {
	opts := &server.Options{}
	if s.config != "" {
		var err error
		if opts, err = server.ProcessConfigFile(s.config); err != nil {
			return nil, err
		}
	}
	opts.ServerName = "lantern-test"
	opts.Host = "127.0.0.1"
	opts.Port = s.port
	opts.JetStream = true
	opts.StoreDir = s.storeDir
	opts.SyncAlways = true
	// Encrypted at rest as Lantern's brokers are; the key outlives restarts.
	opts.JetStreamKey, opts.JetStreamCipher = s.storeKey, server.AES
	opts.NoLog = true
	opts.NoSigs = true
	for _, o := range s.opts {
		o(opts)
	}
	// A restart must come back where the clients expect it.
	if s.port != server.RANDOM_PORT {
		opts.Port = s.port
	}
	return opts, nil
}

// CheckFor calls f every interval until it returns nil, and fails the test
// with f's last error if that has not happened within timeout. It is the
// way to wait for something that happens eventually, such as a redelivery
// or a reconnect, without sleeping for a guessed time.
func CheckFor(t testing.TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	if err := poll(timeout, interval, f); err != nil {
		t.Fatal(err)
	}
}

func poll(timeout, interval time.Duration, f func() error) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-deadline.C:
			return fmt.Errorf("condition not met within %v: %w", timeout, err)
		case <-tick.C:
		}
	}
}

// randomKey is a fresh JetStream store key for one server.
func randomKey(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("natstest: %v", err)
	}
	return hex.EncodeToString(b)
}

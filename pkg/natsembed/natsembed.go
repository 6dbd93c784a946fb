// Package natsembed runs the NATS JetStream server inside a Lantern process,
// for `make run` and for tests that start Lantern as separate processes.
//
// The server keeps its streams on disk in the given directory and, unless
// told otherwise, syncs every write to disk before acknowledging it, the
// equivalent of `sync_interval: always` in a server configuration file, so
// that an acknowledged event survives a crash of the machine. A short
// SyncInterval instead syncs on a timer: an operating-system crash can
// then take the writes of the last interval, which Lantern's outbox relays
// publish again from PostgreSQL (pkg/outbox).
package natsembed

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

const (
	// defaultHost keeps the development server off every network but the
	// loopback one.
	defaultHost = "127.0.0.1"
	// readyTimeout bounds the wait for the server to accept clients,
	// including JetStream's recovery of the streams already on disk.
	readyTimeout = 30 * time.Second
)

// MaxSyncInterval is the longest sync interval Start accepts: well inside
// the outbox relays' re-publish horizon (one minute), so that whatever a
// crash takes from the broker is still within it.
const MaxSyncInterval = 10 * time.Second

// DefaultSyncInterval is what `make run` and the test clusters run with
// (LANTERN_NATS_SYNC_INTERVAL): PostgreSQL is the point of durability.
const DefaultSyncInterval = 200 * time.Millisecond

// SyncEnv is the setting that chooses the broker's sync: "always" or an
// interval such as 200ms.
const SyncEnv = "LANTERN_NATS_SYNC_INTERVAL"

// ParseSync reads a sync setting: "always" (or "0") syncs every write; a
// duration up to MaxSyncInterval syncs on that timer; empty is
// DefaultSyncInterval.
func ParseSync(s string) (time.Duration, error) {
	switch s {
	case "":
		return DefaultSyncInterval, nil
	case "always", "0":
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > MaxSyncInterval {
		return 0, fmt.Errorf("%s=%q: want \"always\" or a duration up to %s", SyncEnv, s, MaxSyncInterval)
	}
	return d, nil
}

// SyncFromEnv is ParseSync of the SyncEnv setting.
func SyncFromEnv() (time.Duration, error) { return ParseSync(os.Getenv(SyncEnv)) }

// FormatSync is the setting ParseSync reads back as d.
func FormatSync(d time.Duration) string {
	if d == 0 {
		return "always"
	}
	return d.String()
}

// Options says where the embedded server listens and keeps its data.
type Options struct {
	// Host is the interface to listen on; empty means 127.0.0.1.
	Host string
	// Port is the client port. Zero lets the server pick a free one; it
	// never picks 4222, which a machine-wide NATS server may hold.
	Port int
	// StoreDir is where JetStream keeps its streams. It is required, so
	// that data never lands somewhere unexpected.
	StoreDir string
	// SyncInterval, when above zero, makes the server sync its store to
	// disk on this timer instead of after every write (`sync_interval:
	// always`, the zero value): much faster, but a power cut or an
	// operating-system crash can lose the writes of the last interval.
	// It is safe only with publishers that keep what they published for
	// longer and publish it again after a broker restart, as Lantern's
	// outbox relays do (outbox.DefaultHorizon); it may not exceed
	// MaxSyncInterval.
	SyncInterval time.Duration
	// ConfigFile, if set, is a nats-server configuration the options start
	// from: Lantern's accounts (`lantern nats config`), so that the
	// embedded server refuses anonymous clients and holds every identity
	// to its permissions. Host, port, store and sync above override it.
	ConfigFile string
	// KeyFile, if set, names the file holding the key JetStream encrypts
	// its store with (AES-GCM, the server's own at-rest encryption), so
	// that the store's files hold nothing readable. EnsureKeyFile makes
	// one. Empty leaves the store unencrypted, for tests of the server
	// alone.
	KeyFile string
	// Logger receives the server's own log; its Fatalf must not end the
	// process, because Start reports the failure itself. Nil silences it.
	Logger server.Logger
}

// Start runs the server and returns once it accepts clients with JetStream
// enabled. Its client address is the returned server's ClientURL(). The
// caller stops it with Shutdown and WaitForShutdown.
func Start(opts Options) (*server.Server, error) {
	serverOpts, err := serverOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := checkPortFree(serverOpts.Host, serverOpts.Port); err != nil {
		return nil, err
	}
	srv, err := server.NewServer(serverOpts)
	if err != nil {
		return nil, fmt.Errorf("creating embedded NATS server: %w", err)
	}
	if opts.Logger != nil {
		srv.SetLoggerV2(opts.Logger, false, false, false)
	}
	srv.Start()
	if err := waitReady(srv); err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, err
	}
	return srv, nil
}

func serverOptions(opts Options) (*server.Options, error) {
	if opts.StoreDir == "" {
		return nil, errors.New("starting embedded NATS server: StoreDir is required")
	}
	host := opts.Host
	if host == "" {
		host = defaultHost
	}
	port := opts.Port
	if port == 0 {
		// The server reads 0 as its default port, 4222; -1 asks the
		// kernel for a free one instead.
		port = server.RANDOM_PORT
	}
	so := &server.Options{}
	if opts.ConfigFile != "" {
		var err error
		if so, err = server.ProcessConfigFile(opts.ConfigFile); err != nil {
			return nil, fmt.Errorf("starting embedded NATS server: %w", err)
		}
	}
	// A configuration that names its server keeps that name: the members
	// of a cluster must each have their own.
	if so.ServerName == "" {
		so.ServerName = "lantern-embedded"
	}
	so.Host, so.Port = host, port
	if opts.SyncInterval < 0 || opts.SyncInterval > MaxSyncInterval {
		return nil, fmt.Errorf("starting embedded NATS server: sync interval %s outside 0 (always) to %s", opts.SyncInterval, MaxSyncInterval)
	}
	so.JetStream, so.StoreDir = true, opts.StoreDir
	so.SyncAlways, so.SyncInterval = opts.SyncInterval == 0, opts.SyncInterval
	so.NoLog = opts.Logger == nil
	if opts.KeyFile != "" {
		key, err := ReadKeyFile(opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("starting embedded NATS server: %w", err)
		}
		so.JetStreamKey, so.JetStreamCipher = key, server.AES
	}
	// The Lantern process owns signal handling and stops the server in
	// order after its consumers have drained.
	so.NoSigs = true
	return so, nil
}

// checkPortFree fails at once when a chosen port is taken, because the
// server itself would only report it after the whole readiness timeout.
func checkPortFree(host string, port int) error {
	if port == server.RANDOM_PORT {
		return nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("starting embedded NATS server: %w", err)
	}
	if err := l.Close(); err != nil {
		return fmt.Errorf("starting embedded NATS server: releasing port check: %w", err)
	}
	return nil
}

func waitReady(srv *server.Server) error {
	if !srv.ReadyForConnections(readyTimeout) {
		return fmt.Errorf("starting embedded NATS server: not accepting clients within %v", readyTimeout)
	}
	if !srv.JetStreamEnabled() {
		return errors.New("starting embedded NATS server: JetStream did not start")
	}
	return nil
}

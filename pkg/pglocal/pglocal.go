// Package pglocal starts a PostgreSQL server from the binaries installed on
// this machine, for tests and for `make run`.
//
// The server listens on 127.0.0.1 only, trusts every loopback connection and
// keeps the durable settings (fsync, synchronous_commit, full_page_writes) on,
// so that crash tests see what production would see. PostgreSQL refuses to run
// as root, so when this process is root the server runs as the `postgres`
// user, or `nobody` when there is no such user.
//
// pglocal runs on Linux: it reads /proc to find the server's child processes.
package pglocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// reservedPort is the conventional PostgreSQL port. A machine-wide server may
// already own it, so pglocal never uses it.
const reservedPort = 5432

// Options says where and how to run the server.
type Options struct {
	// DataDir holds the cluster. An existing cluster is reused as it is; an
	// empty or missing directory gets a new one. Empty means a fresh
	// directory under os.TempDir() that Stop removes.
	DataDir string
	// Port is the TCP port on 127.0.0.1. Zero picks a free one. 5432 is
	// refused so that a machine-wide server is never disturbed.
	Port int
	// BinDir names the directory holding initdb and postgres. Empty means
	// the directory of initdb on PATH, else the newest
	// /usr/lib/postgresql/<version>/bin.
	BinDir string
	// Logf receives one line for each step of the server's life. Nil
	// discards them.
	Logf func(format string, args ...any)
	// TLS, if set, serves TLS with this certificate and key (PEM files),
	// copied into the data directory where the server account can read
	// them. Clients choose whether to use it (sslmode).
	TLS *TLS
}

// TLS names a server certificate and its private key.
type TLS struct {
	CertFile, KeyFile string
}

// Server is a running (or stopped) PostgreSQL server owned by this process.
// Its methods are safe for concurrent use.
type Server struct {
	logf      func(format string, args ...any)
	bins      binaries
	account   *account
	dataDir   string
	port      int
	throwaway string
	tls       bool

	mu   sync.Mutex
	proc *postmaster
}

// Start prepares the data directory (running initdb when it holds no
// cluster), starts postgres and returns once it accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Port == reservedPort {
		return nil, fmt.Errorf("starting postgres: port %d is reserved for the machine's own server", reservedPort)
	}
	bins, err := findBinaries(opts.BinDir, opts.DataDir)
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	s := &Server{logf: opts.Logf, bins: bins, account: acct, port: opts.Port}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if err := s.prepareDataDir(ctx, opts.DataDir); err != nil {
		s.removeThrowaway()
		return nil, err
	}
	if opts.TLS != nil {
		if err := s.installTLS(*opts.TLS); err != nil {
			s.removeThrowaway()
			return nil, err
		}
	}
	if err := s.startFirst(ctx, opts.Port == 0); err != nil {
		s.removeThrowaway()
		return nil, err
	}
	return s, nil
}

// URL is the superuser's connection string for the postgres database.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// DataDir is the directory that holds the cluster.
func (s *Server) DataDir() string { return s.dataDir }

// LogPath is the file that receives the server's own log.
func (s *Server) LogPath() string { return filepath.Join(s.dataDir, serverLogName) }

// Pid is the postmaster's process id, or 0 when the server is not running.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.pid()
}

// Pids returns the postmaster's process id followed by those of its
// children (backends, WAL writer, checkpointer and the rest), or nil when
// the server is not running. Fault tests trace them.
func (s *Server) Pids() []int {
	pid := s.Pid()
	if pid == 0 {
		return nil
	}
	return append([]int{pid}, childrenOf(pid)...)
}

// Stop shuts the server down cleanly (fast shutdown: open transactions are
// rolled back) and, for a throwaway server, removes its data. If ctx ends
// first the server is killed instead. Stopping a stopped server is a no-op
// apart from removing throwaway data.
func (s *Server) Stop(ctx context.Context) error {
	err := s.shutdown(ctx)
	if rmErr := s.removeThrowaway(); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	return err
}

// Halt shuts the server down cleanly and keeps its data, throwaway or not,
// so that Restart can start it again: for work on a stopped server's
// files, such as moving its WAL directory.
func (s *Server) Halt(ctx context.Context) error { return s.shutdown(ctx) }

// Kill ends the postmaster and every backend with SIGKILL, as a power cut
// would, and waits until they are gone. Committed transactions must survive
// it; Restart runs crash recovery.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.kill()
	s.proc = nil
	if err != nil {
		return fmt.Errorf("killing postgres: %w", err)
	}
	s.logf("pglocal: killed postgres on port %d", s.port)
	return nil
}

// Restart starts the server again on the same data directory and port,
// stopping it cleanly first if it is still running.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.shutdown(ctx); err != nil {
		return err
	}
	return s.launchAndWait(ctx)
}

// Pause freezes the postmaster and all its children with SIGSTOP, so that
// clients see a server that accepts TCP but never answers.
func (s *Server) Pause() error {
	return s.signalTree(true)
}

// Resume lets a paused server run again with SIGCONT.
func (s *Server) Resume() error {
	return s.signalTree(false)
}

func (s *Server) signalTree(pause bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("signalling postgres: server is not running")
	}
	if pause {
		return s.proc.pause()
	}
	return s.proc.resume()
}

func (s *Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop(ctx)
	s.proc = nil
	if err != nil {
		return fmt.Errorf("stopping postgres on port %d: %w", s.port, err)
	}
	s.logf("pglocal: stopped postgres on port %d", s.port)
	return nil
}

func (s *Server) removeThrowaway() error {
	if s.throwaway == "" {
		return nil
	}
	if err := os.RemoveAll(s.throwaway); err != nil {
		return fmt.Errorf("removing throwaway postgres data: %w", err)
	}
	s.throwaway = ""
	return nil
}

package pglocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// serverLogName is the server's stdout and stderr, kept in the data
	// directory so that a persistent cluster carries its own history.
	serverLogName = "lantern-server.log"
	// readyTimeout bounds the wait for a server that neither answers nor
	// exits, for example one replaying a long WAL after a crash.
	readyTimeout = 2 * time.Minute
	// portAttempts is how often a free port is chosen again when another
	// process takes it between our choosing it and postgres binding it.
	portAttempts = 3
	// pollInterval paces readiness and exit checks.
	pollInterval = 50 * time.Millisecond
)

// postmaster is one run of the postgres process.
type postmaster struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (p *postmaster) pid() int { return p.cmd.Process.Pid }

func (p *postmaster) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startFirst launches the server for the first time. When the port was
// chosen here rather than by the caller, a lost race for it is retried on a
// new one.
func (s *Server) startFirst(ctx context.Context, choosePort bool) error {
	if err := s.truncateLog(); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		if choosePort {
			port, err := freePort()
			if err != nil {
				return err
			}
			s.port = port
		}
		err := s.launchAndWait(ctx)
		if err == nil || !choosePort || attempt == portAttempts || !errors.Is(err, errPortTaken) {
			return err
		}
		s.logf("pglocal: port %d was taken, choosing another", s.port)
	}
}

var errPortTaken = errors.New("port already in use")

func (s *Server) launchAndWait(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	proc, err := s.launch()
	if err != nil {
		return err
	}
	if err := s.waitReady(ctx, proc); err != nil {
		killErr := proc.kill()
		logTail := readTail(s.LogPath())
		if strings.Contains(logTail, "could not bind") || strings.Contains(logTail, "already in use") {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return errors.Join(fmt.Errorf("starting postgres on port %d: %w\nserver log (%s):\n%s", s.port, err, s.LogPath(), logTail), killErr)
	}
	s.proc = proc
	s.logf("pglocal: postgres ready on 127.0.0.1:%d (pid %d, data %s)", s.port, proc.pid(), s.dataDir)
	return nil
}

// launch starts postgres in the foreground as this process's child, with
// the settings that matter passed on the command line so that they hold
// for a reused cluster too.
func (s *Server) launch() (*postmaster, error) {
	logFile, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening postgres log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(s.bins.postgres, s.serverArgs()...)
	cmd.Dir = s.dataDir
	cmd.Env = serverEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = childAttrs(s.account)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.bins.postgres, err)
	}
	proc := &postmaster{cmd: cmd, done: make(chan struct{})}
	go func() {
		proc.err = cmd.Wait()
		close(proc.done)
	}()
	return proc, nil
}

func (s *Server) serverArgs() []string {
	settings := []string{
		"listen_addresses=127.0.0.1",
		"port=" + strconv.Itoa(s.port),
		"unix_socket_directories=",
		"fsync=on",
		"synchronous_commit=on",
		"full_page_writes=on",
		"max_connections=200",
		"shared_buffers=64MB",
		"huge_pages=off",
		"logging_collector=off",
	}
	if s.tls {
		settings = append(settings, "ssl=on", "ssl_cert_file="+tlsCertName, "ssl_key_file="+tlsKeyName,
			"ssl_min_protocol_version=TLSv1.2")
	}
	args := []string{"-D", s.dataDir}
	for _, setting := range settings {
		args = append(args, "-c", setting)
	}
	return args
}

// waitReady polls with real connections until the server answers a query,
// the process exits, or the time runs out.
func (s *Server) waitReady(ctx context.Context, proc *postmaster) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	var lastErr error
	for {
		if lastErr = ping(ctx, s.URL()); lastErr == nil {
			return nil
		}
		select {
		case <-proc.done:
			return fmt.Errorf("postgres exited before accepting connections: %v", proc.err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for postgres to accept connections: %w (last attempt: %v)", ctx.Err(), lastErr)
		case <-ticker.C:
		}
	}
}

func ping(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parsing postgres URL: %w", err)
	}
	cfg.ConnectTimeout = time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

func (s *Server) truncateLog() error {
	err := os.Truncate(s.LogPath(), 0)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clearing postgres log: %w", err)
	}
	return nil
}

// freePort asks the kernel for an unused loopback port. Another process may
// take it before postgres binds it; startFirst retries when that happens.
func freePort() (int, error) {
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("choosing a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("choosing a free port: %w", err)
		}
		if port != reservedPort {
			return port, nil
		}
	}
}

// stop asks for a fast shutdown and waits for it; if ctx ends first the
// server is killed.
func (p *postmaster) stop(ctx context.Context) error {
	if p.exited() {
		return nil
	}
	// A paused server cannot act on SIGINT, so let it run first.
	_ = signalProcesses(append(childrenOf(p.pid()), p.pid()), syscall.SIGCONT)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil && !p.exited() {
		return fmt.Errorf("asking postgres to stop: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return errors.Join(fmt.Errorf("waiting for postgres to stop: %w", ctx.Err()), p.kill())
	}
}

// kill freezes the postmaster so that it forks nothing new, then SIGKILLs it
// and every child, and waits until all of them are gone: a new postmaster
// refuses to start while an old backend still holds the shared memory.
func (p *postmaster) kill() error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGSTOP)
	pids := append(childrenOf(p.pid()), p.pid())
	if err := signalProcesses(pids, syscall.SIGKILL); err != nil {
		return err
	}
	<-p.done
	return waitGone(pids[:len(pids)-1])
}

func (p *postmaster) pause() error {
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pausing postgres: %w", err)
	}
	if err := signalProcesses(childrenOf(p.pid()), syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pausing postgres backends: %w", err)
	}
	return nil
}

func (p *postmaster) resume() error {
	if err := signalProcesses(childrenOf(p.pid()), syscall.SIGCONT); err != nil {
		return fmt.Errorf("resuming postgres backends: %w", err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("resuming postgres: %w", err)
	}
	return nil
}

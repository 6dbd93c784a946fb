package natsembed

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// storeFailures are what the server logs when a stream's store failed a
// write or a sync (the stream refuses every later message), or when it ran
// out of space (JetStream shuts itself down). It recovers from neither by
// itself; a restart on the same store does, once the disk takes writes.
var storeFailures = []string{"critical write error", "will be DISABLED"}

// probeEvery is how often a supervisor tries the store while it waits for
// the disk to take writes again.
const probeEvery = time.Second

// Supervised is an embedded server that restarts itself on the same port
// and store after its store failed, once the store directory takes a
// synced write again. Messages the failed store had acknowledged are on
// disk; those it refused were never acknowledged, and their publishers
// (Lantern's outbox relays) send them again.
type Supervised struct {
	opts   Options
	failed chan string
	stop   chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	srv      *server.Server
	restarts int
}

// StartSupervised starts a server as Start does and supervises it until
// Shutdown.
func StartSupervised(opts Options) (*Supervised, error) {
	s := &Supervised{opts: opts, failed: make(chan string, 1), stop: make(chan struct{}), done: make(chan struct{})}
	s.opts.Logger = watchingLogger{Logger: opts.Logger, failed: s.failed}
	srv, err := Start(s.opts)
	if err != nil {
		return nil, err
	}
	// Restarts use the port the first start got.
	if addr, ok := srv.Addr().(*net.TCPAddr); ok {
		s.opts.Port = addr.Port
	}
	s.srv = srv
	go s.supervise()
	return s, nil
}

// Server is the server running now; a restart replaces it.
func (s *Supervised) Server() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// ClientURL is the address clients connect to; it survives restarts.
func (s *Supervised) ClientURL() string { return s.Server().ClientURL() }

// Restarts counts the restarts after a store failure so far.
func (s *Supervised) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// Shutdown stops supervising and shuts the server down.
func (s *Supervised) Shutdown() {
	close(s.stop)
	<-s.done
	srv := s.Server()
	srv.Shutdown()
	srv.WaitForShutdown()
}

func (s *Supervised) supervise() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case why := <-s.failed:
			s.logf("store failed (%s); restarting once the store takes writes", why)
			if !s.waitWritable() {
				return
			}
			if err := s.restart(); err != nil {
				s.logf("restart after a store failure failed: %v; trying again", err)
				s.signal("the last restart failed")
			}
		}
	}
}

// waitWritable probes the store until a synced write succeeds, or the
// supervisor is stopped.
func (s *Supervised) waitWritable() bool {
	for {
		if err := probeStore(s.opts.StoreDir); err == nil {
			return true
		}
		select {
		case <-s.stop:
			return false
		case <-time.After(probeEvery):
		}
	}
}

// probeStore writes, syncs and removes a small file in dir.
func probeStore(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	// WriteAt, as the file store writes its blocks (pwrite).
	if _, err := f.WriteAt(make([]byte, 4096), 0); err != nil {
		return err
	}
	return f.Sync()
}

func (s *Supervised) restart() error {
	old := s.Server()
	old.Shutdown()
	old.WaitForShutdown()
	srv, err := Start(s.opts)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.srv = srv
	s.restarts++
	s.mu.Unlock()
	s.logf("restarted on %s with the store in %s", srv.ClientURL(), filepath.Clean(s.opts.StoreDir))
	return nil
}

func (s *Supervised) signal(why string) {
	select {
	case s.failed <- why:
	default: // a restart is already due
	}
}

func (s *Supervised) logf(format string, args ...any) {
	if s.opts.Logger != nil {
		s.opts.Logger.Warnf("natsembed supervisor: "+format, args...)
	}
}

// watchingLogger passes the server's log on and raises a store failure
// when the server reports one.
type watchingLogger struct {
	server.Logger
	failed chan string
}

func (l watchingLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	for _, sign := range storeFailures {
		if strings.Contains(msg, sign) {
			select {
			case l.failed <- strconv.Quote(sign):
			default:
			}
		}
	}
	if l.Logger != nil {
		l.Logger.Errorf(format, v...)
	}
}

func (l watchingLogger) Noticef(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Noticef(format, v...)
	}
}

func (l watchingLogger) Warnf(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Warnf(format, v...)
	}
}

func (l watchingLogger) Fatalf(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Fatalf(format, v...)
	}
}

func (l watchingLogger) Debugf(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Debugf(format, v...)
	}
}

func (l watchingLogger) Tracef(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Tracef(format, v...)
	}
}

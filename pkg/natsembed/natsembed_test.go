package natsembed_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

func start(t *testing.T, opts natsembed.Options) *server.Server {
	t.Helper()
	srv, err := natsembed.Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { stop(srv) })
	return srv
}

func stop(srv *server.Server) {
	srv.Shutdown()
	srv.WaitForShutdown()
}

func jetStream(t *testing.T, srv *server.Server) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatalf("connecting to %s: %v", srv.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream.New: %v", err)
	}
	return js
}

func TestStartDefaults(t *testing.T) {
	t.Parallel()
	srv := start(t, natsembed.Options{StoreDir: t.TempDir()})

	natstest.CheckDefaults(t, srv)
}

func TestSyncIntervalTurnsOffSyncAlways(t *testing.T) {
	t.Parallel()
	srv := start(t, natsembed.Options{StoreDir: t.TempDir(), SyncInterval: 200 * time.Millisecond})

	if cfg := srv.JetStreamConfig(); cfg.SyncAlways || cfg.SyncInterval != 200*time.Millisecond {
		t.Errorf("sync always %v, interval %s; want a 200ms timer", cfg.SyncAlways, cfg.SyncInterval)
	}
}

func TestSyncIntervalIsBounded(t *testing.T) {
	t.Parallel()
	_, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir(), SyncInterval: time.Minute})
	if err == nil {
		t.Fatal("a one-minute sync interval, past the relays' re-publish horizon, was accepted")
	}
}

func TestParseSync(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"": natsembed.DefaultSyncInterval, "always": 0, "0": 0, "250ms": 250 * time.Millisecond} {
		got, err := natsembed.ParseSync(in)
		if err != nil || got != want {
			t.Errorf("ParseSync(%q) = %s, %v; want %s", in, got, err, want)
		}
		if back, _ := natsembed.ParseSync(natsembed.FormatSync(got)); back != got {
			t.Errorf("FormatSync(%s) does not read back", got)
		}
	}
	for _, bad := range []string{"sometimes", "-1s", "30s"} {
		if _, err := natsembed.ParseSync(bad); err == nil {
			t.Errorf("ParseSync(%q) accepted", bad)
		}
	}
}

func TestStreamsSurviveARestartOnTheSameStore(t *testing.T) {
	t.Parallel()
	storeDir := t.TempDir()
	first, err := natsembed.Start(natsembed.Options{StoreDir: storeDir})
	if err != nil {
		t.Fatalf("first Start: %v", err)
	}
	js := jetStream(t, first)
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{
		Name:     "NOTES",
		Subjects: []string{"notes.>"},
		Storage:  jetstream.FileStorage,
	}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	want := []string{"one", "two"}
	for _, body := range want {
		if _, err := js.Publish(t.Context(), "notes.kept", []byte(body)); err != nil {
			t.Fatalf("Publish %q: %v", body, err)
		}
	}
	stop(first)

	second := start(t, natsembed.Options{StoreDir: storeDir})

	stream, err := jetStream(t, second).Stream(t.Context(), "NOTES")
	if err != nil {
		t.Fatalf("Stream after restart: %v", err)
	}
	if diff := cmp.Diff(want, natstest.StreamData(t, stream, len(want))); diff != "" {
		t.Errorf("messages after restart (-want +got):\n%s", diff)
	}
}

func TestStartRefuses(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = taken.Close() })
	takenPort := taken.Addr().(*net.TCPAddr).Port

	cases := []struct {
		name    string
		opts    natsembed.Options
		wantErr string
	}{
		{
			name:    "no store directory",
			opts:    natsembed.Options{},
			wantErr: "StoreDir is required",
		},
		{
			name:    "a port in use",
			opts:    natsembed.Options{StoreDir: t.TempDir(), Port: takenPort},
			wantErr: "address already in use",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := natsembed.Start(tc.opts)
			if err == nil {
				stop(srv)
				t.Fatalf("Start succeeded, want an error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Start error = %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoggerReceivesTheServerLog(t *testing.T) {
	t.Parallel()
	logger := &recordingLogger{}
	srv := start(t, natsembed.Options{StoreDir: t.TempDir(), Logger: logger})

	stop(srv)

	if !logger.saw("Server Exiting") {
		t.Errorf("the logger saw no shutdown notice; it saw:\n%s", strings.Join(logger.lines(), "\n"))
	}
}

// recordingLogger keeps the notices the server logs.
type recordingLogger struct {
	mu     sync.Mutex
	record []string
}

var _ server.Logger = (*recordingLogger)(nil)

func (l *recordingLogger) add(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.record = append(l.record, fmt.Sprintf(format, v...))
}

func (l *recordingLogger) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.record...)
}

func (l *recordingLogger) saw(substr string) bool {
	for _, line := range l.lines() {
		if strings.Contains(line, substr) {
			return true
		}
	}
	return false
}

func (l *recordingLogger) Noticef(format string, v ...any) { l.add(format, v...) }
func (l *recordingLogger) Warnf(format string, v ...any)   { l.add(format, v...) }
func (l *recordingLogger) Fatalf(format string, v ...any)  { l.add(format, v...) }
func (l *recordingLogger) Errorf(format string, v ...any)  { l.add(format, v...) }
func (l *recordingLogger) Debugf(format string, v ...any)  { l.add(format, v...) }
func (l *recordingLogger) Tracef(format string, v ...any)  { l.add(format, v...) }

// A cluster's members each need a name of their own: a configuration
// that names its server keeps that name, one that does not gets the
// embedded default.
func TestConfigNamesTheServer(t *testing.T) {
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "server.conf")
	if err := os.WriteFile(conf, []byte("server_name: nats-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	named := start(t, natsembed.Options{StoreDir: t.TempDir(), ConfigFile: conf})
	unnamed := start(t, natsembed.Options{StoreDir: t.TempDir()})
	if got := named.Name(); got != "nats-2" {
		t.Errorf("the configured server is named %q, want nats-2", got)
	}
	if got := unnamed.Name(); got != "lantern-embedded" {
		t.Errorf("the unconfigured server is named %q, want lantern-embedded", got)
	}
}

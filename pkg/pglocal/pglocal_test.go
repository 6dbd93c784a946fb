package pglocal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/pglocal"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

// startServer starts a throwaway server and stops it when the test ends,
// which does no harm to one the test stopped itself: Stop may be repeated.
func startServer(t *testing.T, opts pglocal.Options) *pglocal.Server {
	t.Helper()
	opts.Logf = t.Logf
	srv, err := pglocal.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return srv
}

// reachableDir returns a directory that the unprivileged server account
// can traverse even when the test runs as root (t.TempDir() is 0700).
func reachableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// writeNote makes a notes table on the server at url holding one row,
// body, for the test to find again after the server restarts; it returns
// the connection that wrote it.
func writeNote(t *testing.T, url, body string) *pgx.Conn {
	t.Helper()
	conn := pgtest.Connect(t, url)
	mustExec(t, conn, "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
	mustExec(t, conn, "INSERT INTO notes VALUES (1, $1)", body)
	return conn
}

func notes(t *testing.T, url string) []string {
	t.Helper()
	return pgtest.Strings(t, pgtest.Connect(t, url), "SELECT body FROM notes ORDER BY id")
}

func TestServerSettings(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pglocal.Options{})
	conn := pgtest.Connect(t, srv.URL())

	want := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(srv.Port()),
		"unix_socket_directories": "",
		"fsync":                   "on",
		"synchronous_commit":      "on",
		"full_page_writes":        "on",
		"data_checksums":          "on",
		"server_encoding":         "UTF8",
		"lc_collate":              "C",
		"max_connections":         "200",
	}
	got := map[string]string{}
	for name := range want {
		var value string
		if err := conn.QueryRow(t.Context(), "SELECT current_setting($1)", name).Scan(&value); err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		got[name] = value
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if srv.Port() == 5432 {
		t.Errorf("Port() = 5432, the machine's own server port")
	}
	wantURL := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", srv.Port())
	if diff := cmp.Diff(wantURL, srv.URL()); diff != "" {
		t.Errorf("URL() (-want +got):\n%s", diff)
	}
}

func TestServerNeverRunsAsRoot(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pglocal.Options{})

	uid := processUID(t, srv.Pid())
	switch {
	case os.Geteuid() == 0 && uid == 0:
		t.Errorf("postmaster %d runs as root", srv.Pid())
	case os.Geteuid() != 0 && uid != os.Geteuid():
		t.Errorf("postmaster runs as uid %d, want the current user %d", uid, os.Geteuid())
	}
}

func processUID(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading process status: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if fields := strings.Fields(line); len(fields) > 1 && fields[0] == "Uid:" {
			uid, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatalf("parsing %q: %v", line, err)
			}
			return uid
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return 0
}

func TestCommittedRowSurvivesKill(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pglocal.Options{})
	writeNote(t, srv.URL(), "committed before the crash")
	oldPid := srv.Pid()

	if err := srv.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if got := srv.Pid(); got != 0 {
		t.Errorf("Pid() after Kill = %d, want 0", got)
	}
	if err := srv.Restart(t.Context()); err != nil {
		t.Fatalf("Restart: %v", err)
	}

	if srv.Pid() == oldPid {
		t.Errorf("Pid() after Restart = %d, the killed postmaster's", oldPid)
	}
	if diff := cmp.Diff([]string{"committed before the crash"}, notes(t, srv.URL())); diff != "" {
		t.Errorf("notes after crash and restart (-want +got):\n%s", diff)
	}
}

func TestExistingClusterIsReused(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(reachableDir(t), "pgdata")
	first, err := pglocal.Start(t.Context(), pglocal.Options{DataDir: dataDir, Logf: t.Logf})
	if err != nil {
		t.Fatalf("first Start: %v", err)
	}
	conn := writeNote(t, first.URL(), "kept across runs")
	if err := conn.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(t.Context()); err != nil {
		t.Fatalf("first Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err != nil {
		t.Fatalf("a named data directory must outlive Stop: %v", err)
	}

	second := startServer(t, pglocal.Options{DataDir: dataDir})

	if diff := cmp.Diff([]string{"kept across runs"}, notes(t, second.URL())); diff != "" {
		t.Errorf("notes in the reused cluster (-want +got):\n%s", diff)
	}
}

func TestStopRemovesThrowawayData(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pglocal.Options{})
	dataDir := srv.DataDir()

	if err := srv.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := srv.Stop(t.Context()); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("throwaway data directory after Stop: stat err = %v, want not exist", err)
	}
	if got := srv.Pid(); got != 0 {
		t.Errorf("Pid() after Stop = %d, want 0", got)
	}
}

func TestPauseFreezesTheServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pglocal.Options{})
	conn := pgtest.Connect(t, srv.URL())

	if err := srv.Pause(); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err := conn.Ping(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ping on a paused server: err = %v, want %v", err, context.DeadlineExceeded)
	}
	if err := srv.Resume(); err != nil {
		t.Fatalf("Resume: %v", err)
	}

	// The cancelled ping broke the old connection, so use a new one.
	var one int
	if err := pgtest.Connect(t, srv.URL()).QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil {
		t.Errorf("query after Resume: %v", err)
	}
}

func TestStopEndsAPausedServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pglocal.Options{})
	if err := srv.Pause(); err != nil {
		t.Fatalf("Pause: %v", err)
	}

	if err := srv.Stop(t.Context()); err != nil {
		t.Errorf("Stop on a paused server: %v", err)
	}
}

func TestStartRefusesBadOptions(t *testing.T) {
	t.Parallel()
	notACluster := reachableDir(t)
	if err := os.WriteFile(filepath.Join(notACluster, "stray.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		opts    pglocal.Options
		wantErr string
	}{
		{
			name:    "the machine's own port",
			opts:    pglocal.Options{Port: 5432},
			wantErr: "port 5432 is reserved",
		},
		{
			name:    "a directory with files but no cluster",
			opts:    pglocal.Options{DataDir: notACluster},
			wantErr: "holds no cluster",
		},
		{
			name:    "a directory without PostgreSQL binaries",
			opts:    pglocal.Options{BinDir: notACluster},
			wantErr: "finding PostgreSQL binaries",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := pglocal.Start(t.Context(), tc.opts)
			if err == nil {
				_ = srv.Stop(context.Background())
				t.Fatalf("Start succeeded, want an error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Start error = %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestHaltKeepsThrowawayDataForRestart(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pglocal.Options{})
	conn := writeNote(t, srv.URL(), "kept across a halt")
	conn.Close(t.Context())

	if err := srv.Halt(t.Context()); err != nil {
		t.Fatalf("Halt: %v", err)
	}
	if got := srv.Pid(); got != 0 {
		t.Errorf("Pid() after Halt = %d, want 0", got)
	}
	if _, err := os.Stat(filepath.Join(srv.DataDir(), "PG_VERSION")); err != nil {
		t.Fatalf("data directory after Halt: %v", err)
	}
	if err := srv.Restart(t.Context()); err != nil {
		t.Fatalf("Restart: %v", err)
	}

	if diff := cmp.Diff([]string{"kept across a halt"}, notes(t, srv.URL())); diff != "" {
		t.Errorf("notes after halt and restart (-want +got):\n%s", diff)
	}
}

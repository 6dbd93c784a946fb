package pglocal_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/pglocal"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// ownerEnv marks the copy of this test binary that plays the process which
// owns the server.
const ownerEnv = "PGLOCAL_TEST_OWNER"

// TestServerStopsWhenItsOwnerDies checks that a server is not left running
// when the process that started it dies without stopping it, because such a
// server would keep `make run`'s data directory locked.
func TestServerStopsWhenItsOwnerDies(t *testing.T) {
	if os.Getenv(ownerEnv) != "" {
		runOwner()
		return
	}
	t.Parallel()
	owner := exec.Command(os.Args[0], "-test.run=^TestServerStopsWhenItsOwnerDies$", "-test.timeout=2m")
	owner.Env = append(os.Environ(), ownerEnv+"=1")
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(); err != nil {
		t.Fatalf("starting the owner process: %v", err)
	}
	t.Cleanup(func() { _ = owner.Process.Kill(); _ = owner.Wait() })
	pid, dataDir := readOwnerReport(t, out)
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(dataDir)) })

	if err := owner.Process.Kill(); err != nil {
		t.Fatalf("killing the owner: %v", err)
	}

	natstest.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if running(pid) {
			return fmt.Errorf("postmaster %d still runs after its owner died", pid)
		}
		return nil
	})
}

// runOwner starts a server, reports it on stdout and waits to be killed.
func runOwner() {
	srv, err := pglocal.Start(context.Background(), pglocal.Options{})
	if err != nil {
		fmt.Printf("OWNER-ERROR %v\n", strings.ReplaceAll(err.Error(), "\n", " | "))
		os.Exit(1)
	}
	fmt.Printf("OWNER %d %s\n", srv.Pid(), srv.DataDir())
	select {}
}

func readOwnerReport(t *testing.T, out interface{ Read([]byte) (int, error) }) (int, string) {
	t.Helper()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		var pid int
		var dataDir string
		if _, err := fmt.Sscanf(lines.Text(), "OWNER %d %s", &pid, &dataDir); err == nil {
			return pid, dataDir
		}
		if strings.HasPrefix(lines.Text(), "OWNER-ERROR") {
			t.Fatalf("the owner could not start a server: %s", lines.Text())
		}
	}
	t.Fatalf("the owner exited without reporting a server: %v", lines.Err())
	return 0, ""
}

// running reports whether pid is a live process; a zombie waiting to be
// reaped by init no longer runs.
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	end := strings.LastIndexByte(string(stat), ')')
	fields := strings.Fields(string(stat)[end+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

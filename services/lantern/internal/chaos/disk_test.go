package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
)

// diskFaults are F12 (fsync and write errors injected with strace) and
// F13 (a full disk) on the broker and on PostgreSQL.
func diskFaults(p profile) []fault {
	hold := p.pick(5*time.Second, 30*time.Second)
	return []fault{
		{id: "F12/nats-fsync", title: "every fsync of the broker fails with EIO (strace -e inject=fsync,fdatasync:error=EIO)",
			inject: ioErrors(broker, "fsync,fdatasync", "EIO", hold), check: brokerErrorsHeld},
		{id: "F12/nats-write", title: "every file write of the broker fails with ENOSPC (strace -e inject=pwrite64:error=ENOSPC)",
			inject: ioErrors(broker, "pwrite64,pwritev,pwritev2", "ENOSPC", hold), check: brokerErrorsHeld},
		{id: "F12/postgres-fsync", title: "every fsync of PostgreSQL (backends, WAL writer, checkpointer) fails with EIO (strace -e inject=fdatasync:error=EIO)",
			inject: ioErrors(postgres, "fsync,fdatasync", "EIO", hold), check: postgresErrorsRefused},
		{id: "F12/postgres-write", title: "every file write of PostgreSQL fails with ENOSPC (strace -e inject=pwrite64:error=ENOSPC)",
			inject: ioErrors(postgres, "pwrite64,pwritev,pwritev2", "ENOSPC", hold), check: postgresErrorsRefused},
		{id: "F13/nats", title: "the broker's store on a small tmpfs, filled until writes fail, then space freed",
			prepare: brokerOnSmallDisk, inject: fillDisk(broker, hold), check: brokerErrorsHeld},
		{id: "F13/postgres-wal", title: "PostgreSQL's WAL directory on a small tmpfs, filled until WAL writes fail, then space freed",
			prepare: walOnSmallDisk, inject: fillDisk(postgres, hold), check: postgresErrorsRefused},
	}
}

// postgres stands for the PostgreSQL server in the catalogue.
const postgres = "postgres"

// tracePids are the processes strace attaches to: every thread of the
// broker, or the postmaster and each of its children (and, with -f, the
// children it starts later, such as after a crash restart).
func (r *run) tracePids(target string) []int {
	r.t.Helper()
	var pids []int
	if target == broker {
		pids = []int{r.c.Pid(r.c.NATSName())}
	} else {
		pids = r.c.PG.Pids()
	}
	if len(pids) == 0 || pids[0] == 0 {
		r.t.Fatalf("%s is not running", target)
	}
	return pids
}

// injector is a running strace that makes the given system calls fail.
type injector struct {
	cmd  *exec.Cmd
	out  string
	done chan error
}

// injectErrors attaches strace to pids and makes every call of syscalls
// fail with errno until stop. It returns once every process is traced.
func (r *run) injectErrors(pids []int, syscalls, errno string) *injector {
	r.t.Helper()
	out := filepath.Join(r.t.TempDir(), "strace.log")
	args := []string{"-f", "-qq", "-o", out, "-e", "trace=" + syscalls, "-e", "inject=" + syscalls + ":error=" + errno}
	for _, pid := range pids {
		args = append(args, "-p", strconv.Itoa(pid))
	}
	cmd := exec.Command("strace", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("starting strace: %v", err)
	}
	in := &injector{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { in.done <- cmd.Wait() }()
	natstest.CheckFor(r.t, 30*time.Second, 20*time.Millisecond, func() error {
		select {
		case err := <-in.done:
			r.t.Fatalf("strace ended before attaching: %v\n%s", err, stderr.String())
		default:
		}
		for _, pid := range pids {
			if traced, err := tracedBy(pid); err == nil && !traced {
				return fmt.Errorf("process %d not traced yet", pid)
			}
		}
		return nil
	})
	return in
}

// tracedBy reports whether a process has a tracer attached. A process that
// is gone counts as traced: there is nothing left to wait for.
func tracedBy(pid int) (bool, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return true, nil
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			return strings.TrimSpace(v) != "0", nil
		}
	}
	return false, errors.New("no TracerPid in /proc status")
}

// stop detaches strace and returns how many calls it made fail.
func (in *injector) stop() (int, error) {
	_ = in.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-in.done:
	case <-time.After(30 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.done
	}
	log, err := os.ReadFile(in.out)
	if err != nil {
		return 0, fmt.Errorf("reading strace's log: %w", err)
	}
	return strings.Count(string(log), "(INJECTED)"), nil
}

// ioErrors makes target's calls of syscalls fail with errno for hold.
func ioErrors(target, syscalls, errno string, hold time.Duration) func(*run) {
	return func(r *run) {
		r.logTailOnFailure(target)
		pids := r.tracePids(target)
		what := fmt.Sprintf("%s: %s fails with %s", target, syscalls, errno)
		r.faultStarts("strace attaching to " + target)
		in := r.injectErrors(pids, syscalls, errno)
		r.frozen.Start = r.mark(fmt.Sprintf("%s (strace on %d processes)", what, len(pids)))
		r.hold(hold)
		injected, err := in.stop()
		if err != nil {
			r.t.Error(err)
		}
		r.frozen.End = time.Now()
		r.injected = injected
		r.faultEnds(fmt.Sprintf("strace detached after making %d calls fail", injected))
		r.recoverStore(target)
	}
}

// recoverStore is what an operator's supervisor does once a store's
// errors have stopped: start PostgreSQL again if it gave up, or the broker
// if it exited. Each restart is marked in the schedule and noted.
func (r *run) recoverStore(target string) {
	r.t.Helper()
	switch target {
	case postgres:
		if r.waitPostgresUpOrGone() {
			return
		}
		r.mark("postgres has exited (it gave up its crash recovery); restart it")
		r.note("PostgreSQL exited during the fault and was restarted by the suite, as its supervisor would")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := r.c.PG.Restart(ctx); err != nil {
			r.t.Fatal(err)
		}
	case broker:
		if r.c.Running(r.c.NATSName()) {
			return
		}
		r.note("the broker exited during the fault and was restarted by the suite")
		r.restart(r.c.NATSName())
	}
}

// logTailOnFailure prints the end of PostgreSQL's log if the run fails:
// the broker's log is printed with every process's anyway.
func (r *run) logTailOnFailure(target string) {
	if target != postgres {
		return
	}
	r.t.Cleanup(func() {
		if !r.t.Failed() {
			return
		}
		log, _ := os.ReadFile(r.c.PG.LogPath())
		r.t.Logf("--- postgres log tail ---\n%s", tail(string(log[min(r.pgLogFrom, len(log)):]), 6000))
	})
}

// waitPostgresUpOrGone waits until PostgreSQL answers a query (true) or its
// postmaster has exited (false): after a PANIC it runs crash recovery,
// which it gives up if the disk still fails.
func (r *run) waitPostgresUpOrGone() bool {
	r.t.Helper()
	var up bool
	natstest.CheckFor(r.t, 2*time.Minute, 100*time.Millisecond, func() error {
		if pid := r.c.PG.Pid(); pid == 0 || syscall.Kill(pid, 0) != nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := r.c.Pool.Exec(ctx, `SELECT 1`); err != nil {
			return fmt.Errorf("postgres neither answers nor has exited: %w", err)
		}
		up = true
		return nil
	})
	return up
}

// brokerErrorsHeld checks F12's and F13's promise for the broker: the
// fault really made calls fail, and the outboxes held every event until
// the broker could store it again (the common targets find nothing lost).
func brokerErrorsHeld(r *run, f chaos.Figures, _ []*chaos.Submission) {
	r.noteBrokerLog()
	if r.injected == 0 && r.filled == 0 {
		r.t.Errorf("no broker write or sync failed: the fault did nothing")
	}
}

// postgresErrorsRefused checks F12's and F13's promise for PostgreSQL:
// calls really failed, and while they did the intake answered 503 or left
// the outcome open, never 202 for a notice it could not store durably. An
// acknowledged notice missing afterwards counts as lost in the common
// targets.
func postgresErrorsRefused(r *run, f chaos.Figures, subs []*chaos.Submission) {
	if r.injected == 0 && r.filled == 0 {
		r.t.Errorf("no PostgreSQL write or sync failed: the fault did nothing")
	}
	statuses := map[int]int{}
	for _, s := range subs {
		for _, a := range s.Attempts {
			if a.Start.After(r.frozen.Start) && a.Start.Add(a.Duration).Before(r.frozen.End) {
				statuses[a.Status]++
			}
		}
	}
	r.note("attempts made and answered while PostgreSQL's writes failed: %v (0 is no answer)", statuses)
	if statuses[http.StatusServiceUnavailable]+statuses[0]+statuses[http.StatusBadGateway] == 0 {
		r.t.Errorf("no attempt was refused or left open while PostgreSQL's writes failed: %v", statuses)
	}
	r.notePostgresLog()
}

// noteBrokerLog notes what the broker itself said about the fault.
func (r *run) noteBrokerLog() {
	for _, line := range interesting(r.c.Log(r.c.NATSName()), r.brokerLogFrom, brokerSignals, 6) {
		r.note("broker log: %s", line)
	}
}

var brokerSignals = []string{"[ERR]", "[WRN]", "DISABLED", "Starting JetStream", "corrupt", "lost", "rebuild"}

// notePostgresLog notes PostgreSQL's PANICs and recovery lines.
func (r *run) notePostgresLog() {
	log, err := os.ReadFile(r.c.PG.LogPath())
	if err != nil {
		r.t.Error(err)
		return
	}
	for _, line := range interesting(string(log), r.pgLogFrom, []string{"PANIC", "could not", "redo done", "ready to accept", "terminating any other active"}, 8) {
		r.note("postgres log: %s", line)
	}
}

// interesting returns up to n distinct lines after offset from that
// contain one of signals.
func interesting(log string, from int, signals []string, n int) []string {
	var out []string
	seen := map[string]bool{}
	for line := range strings.Lines(log[min(from, len(log)):]) {
		line = strings.TrimSpace(line)
		for _, s := range signals {
			if strings.Contains(line, s) && !seen[line] && len(out) < n {
				seen[line] = true
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// smallDisk is a size-capped filesystem for one store.
type smallDisk struct {
	dir, how string
}

// mountSmallDisk mounts a tmpfs of size bytes at dir. Where mounting is
// not permitted it says so, and the full disk is then made with strace
// instead (every file write failing with ENOSPC), rather than skipped.
func (r *run) mountSmallDisk(dir string, size int64, uid, gid int) smallDisk {
	r.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.t.Fatal(err)
	}
	opts := fmt.Sprintf("size=%d,mode=0700,uid=%d,gid=%d", size, uid, gid)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		r.note("mounting a %d-byte tmpfs at %s is not permitted here (%v): the full disk is simulated by strace making every file write fail with ENOSPC", size, dir, err)
		return smallDisk{dir: dir, how: "strace"}
	}
	r.t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			r.t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	r.mark(fmt.Sprintf("mounted a tmpfs of %d MB at %s", size>>20, dir))
	return smallDisk{dir: dir, how: "tmpfs"}
}

// dirSize is the bytes the files under dir take.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// copyTree copies src into dst (which must exist), keeping owners and
// modes, as an operator moving a store would.
func copyTree(src, dst string) error {
	out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("copying %s to %s: %v\n%s", src, dst, err, out)
	}
	return nil
}

// brokerOnSmallDisk moves the broker's store onto a small filesystem
// before the load starts, and back when the run ends.
func brokerOnSmallDisk(r *run) {
	r.t.Helper()
	orig := r.c.NATSStore()
	disk := r.mountSmallDisk(filepath.Join(r.t.TempDir(), "small"), dirSize(orig)+32<<20, 0, 0)
	r.disk = disk
	if disk.how != "tmpfs" {
		return
	}
	moved := filepath.Join(disk.dir, "js")
	r.moveBrokerStore(orig, moved)
	r.t.Cleanup(func() { r.moveBrokerStore(moved, orig) })
}

func (r *run) moveBrokerStore(from, to string) {
	r.t.Helper()
	r.c.Stop(r.c.NATSName())
	if err := os.MkdirAll(to, 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.RemoveAll(to); err != nil {
		r.t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := copyTree(from, to); err != nil {
		r.t.Fatal(err)
	}
	r.c.MoveNATSStore(to)
	r.restart(r.c.NATSName())
	r.mark("broker store moved to " + to)
}

// walOnSmallDisk moves PostgreSQL's WAL directory onto a small filesystem
// (a symbolic link in its place, as initdb --waldir makes) before the load
// starts, and back when the run ends.
func walOnSmallDisk(r *run) {
	r.t.Helper()
	wal := filepath.Join(r.c.PG.DataDir(), "pg_wal")
	info, err := os.Stat(r.c.PG.DataDir())
	if err != nil {
		r.t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	// Beside the data directory, which the server's account can reach;
	// a test's temporary directory is root's alone.
	disk := r.mountSmallDisk(filepath.Join(filepath.Dir(r.c.PG.DataDir()), "wal-small"), dirSize(wal)+48<<20, int(st.Uid), int(st.Gid))
	r.disk = disk
	if disk.how != "tmpfs" {
		return
	}
	r.relinkWAL(wal, disk.dir)
	r.t.Cleanup(func() { r.unlinkWAL(wal, disk.dir) })
}

// relinkWAL stops PostgreSQL, moves pg_wal's files to dir and leaves a
// symbolic link to it, and starts PostgreSQL again.
func (r *run) relinkWAL(wal, dir string) {
	r.t.Helper()
	r.restartPostgres(func() error {
		if err := copyTree(wal, dir); err != nil {
			return err
		}
		if err := os.RemoveAll(wal); err != nil {
			return err
		}
		return os.Symlink(dir, wal)
	})
	r.mark("postgres WAL moved to " + dir)
}

// unlinkWAL puts the WAL back into the data directory.
func (r *run) unlinkWAL(wal, dir string) {
	r.t.Helper()
	r.restartPostgres(func() error {
		if err := os.Remove(wal); err != nil {
			return err
		}
		if err := os.Mkdir(wal, 0o700); err != nil {
			return err
		}
		info, err := os.Stat(dir)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		if err := os.Chown(wal, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
		return copyTree(dir, wal)
	})
}

// restartPostgres stops PostgreSQL cleanly, runs change, and starts it.
func (r *run) restartPostgres(change func() error) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.c.PG.Halt(ctx); err != nil {
		r.t.Fatal(err)
	}
	if err := change(); err != nil {
		r.t.Fatal(err)
	}
	if err := r.c.PG.Restart(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// fillDisk fills target's small filesystem until a write fails, keeps it
// full for hold, and frees the space. Without a small filesystem it makes
// every file write of target fail with ENOSPC instead.
func fillDisk(target string, hold time.Duration) func(*run) {
	return func(r *run) {
		if r.disk.how != "tmpfs" {
			ioErrors(target, "pwrite64,pwritev,pwritev2,write", "ENOSPC", hold)(r)
			return
		}
		filler := filepath.Join(r.disk.dir, "filler")
		r.faultStarts("fill " + r.disk.dir)
		n, err := fill(filler)
		if err != nil {
			r.t.Fatal(err)
		}
		r.filled = n
		r.frozen.Start = r.mark(fmt.Sprintf("%s full after a filler of %d MB", r.disk.dir, n>>20))
		if target == postgres {
			r.forceWALSegments()
		}
		r.hold(hold)
		r.frozen.End = time.Now()
		if err := os.Remove(filler); err != nil {
			r.t.Fatal(err)
		}
		r.faultEnds("filler removed: space back")
		r.recoverStore(target)
	}
}

// fill writes zeros to path until the filesystem refuses more, and returns
// how much it wrote.
func fill(path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// forceWALSegments switches WAL segments until PostgreSQL needs a new one
// on the full filesystem: segments already allocated (recycled ones) take
// no new space, so without this the load would take minutes to reach the
// end of the current one.
func (r *run) forceWALSegments() {
	for i := range 16 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := r.c.Pool.Exec(ctx, `SELECT pg_switch_wal()`)
		cancel()
		if err != nil {
			r.mark(fmt.Sprintf("pg_switch_wal failed after %d switches: %v", i, err))
			return
		}
		r.hold(200 * time.Millisecond) // let the load write into the new segment
	}
	r.mark("16 WAL segment switches succeeded on the full filesystem")
}

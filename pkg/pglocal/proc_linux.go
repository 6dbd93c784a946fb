package pglocal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// childAttrs runs initdb and postgres as the server account, in a process
// group of their own so that a Ctrl-C at the terminal reaches only this
// process, which then stops the server in order. If this process dies
// without stopping it, the kernel asks the server for a fast shutdown, so
// no orphaned server keeps the port or the data directory locked.
func childAttrs(acct *account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Setpgid:    true,
		Pdeathsig:  syscall.SIGINT,
		Credential: acct.credential(),
	}
}

// childrenOf lists the processes whose parent is pid. PostgreSQL backends
// each lead a process group of their own, so signalling the postmaster's
// group would miss them; /proc is the reliable way to find them.
func childrenOf(pid int) []int {
	statFiles, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil
	}
	var children []int
	for _, path := range statFiles {
		child, parent, _, ok := readStat(path)
		if ok && parent == pid {
			children = append(children, child)
		}
	}
	return children
}

// readStat parses the pid, parent pid and state out of a /proc/<pid>/stat
// file. The command name may hold spaces and parentheses, so parsing starts
// after its last closing parenthesis.
func readStat(path string) (pid, ppid int, state string, ok bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, "", false
	}
	text := string(raw)
	open, end := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 1 || end < open {
		return 0, 0, "", false
	}
	fields := strings.Fields(text[end+1:])
	if len(fields) < 2 {
		return 0, 0, "", false
	}
	pid, errPid := strconv.Atoi(strings.TrimSpace(text[:open]))
	ppid, errPpid := strconv.Atoi(fields[1])
	if errPid != nil || errPpid != nil {
		return 0, 0, "", false
	}
	return pid, ppid, fields[0], true
}

func signalProcesses(pids []int, sig syscall.Signal) error {
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("sending %v to %d: %w", sig, pid, err))
		}
	}
	return errors.Join(errs...)
}

// waitGone waits until none of pids is alive. A killed backend is no longer
// our child, so it cannot be waited for; a zombie left for init to reap
// counts as gone because it has already released its memory.
func waitGone(pids []int) error {
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("waiting for postgres process %d to exit: still running", pid)
			}
			time.Sleep(pollInterval)
		}
	}
	return nil
}

func alive(pid int) bool {
	_, _, state, ok := readStat(fmt.Sprintf("/proc/%d/stat", pid))
	return ok && state != "Z" && state != "X"
}

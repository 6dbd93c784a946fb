package bench

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's unit for process CPU times (USER_HZ), 100 on
// every Linux Lantern runs on.
const clockTicks = 100

// CPU is the CPU time used so far by this process and each of its
// descendants, summed by command name: every Lantern service, every
// PostgreSQL backend, and this process itself (the load generator and, in
// the default cluster, the NATS server).
type CPU map[string]time.Duration

type procStat struct {
	pid, ppid int
	command   string
	cpu       time.Duration
}

// ReadCPU takes a snapshot. Processes that have exited are not counted, so
// compare snapshots taken while the same processes run.
func ReadCPU() CPU {
	out := CPU{}
	for _, s := range family() {
		name := s.command
		if s.pid == os.Getpid() {
			name = selfName
		}
		out[name] += s.cpu
	}
	return out
}

// selfName is what the figures call the benchmark's own process.
const selfName = "load generator and NATS (this process)"

// Since returns the CPU used between an earlier snapshot and this one.
func (c CPU) Since(before CPU) CPU {
	out := CPU{}
	for name, d := range c {
		if used := d - before[name]; used > 0 {
			out[name] = used
		}
	}
	return out
}

// Busiest lists the commands by CPU used, most first.
func (c CPU) Busiest() []string {
	names := slices.Collect(maps.Keys(c))
	slices.SortFunc(names, func(a, b string) int { return int(c[b] - c[a]) })
	return names
}

func readProcs() []procStat {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	stats := make([]procStat, 0, len(dirs))
	for _, dir := range dirs {
		if s, ok := readStat(filepath.Join(dir, "stat")); ok {
			stats = append(stats, s)
		}
	}
	return stats
}

// readStat parses /proc/<pid>/stat: the command is in parentheses and may
// hold spaces, so fields are counted from the closing one.
func readStat(path string) (procStat, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, false
	}
	text := string(b)
	open, closing := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || closing < open {
		return procStat{}, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(text[:open]))
	fields := strings.Fields(text[closing+1:])
	if err != nil || len(fields) < 13 {
		return procStat{}, false
	}
	// After the command: state, ppid, ..., utime is the 12th and stime the 13th.
	ppid, _ := strconv.Atoi(fields[1])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return procStat{pid: pid, ppid: ppid, command: text[open+1 : closing],
		cpu: time.Duration(utime+stime) * time.Second / clockTicks}, true
}

package bench

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Memory is the peak resident set of this process and of each of its
// descendants since the last ResetPeaks, in bytes, the largest process of
// each command name: every Lantern service (the larger replica), the
// PostgreSQL backends when the test server is a child, and this process
// (the load generator and, in the default cluster, the NATS server).
type Memory map[string]int64

// ResetPeaks starts a new peak for this process and its descendants, by
// writing 5 to each one's clear_refs (Linux 4.0 and later), so that a
// phase's peak is its own and not the largest of the run so far.
func ResetPeaks() {
	for _, s := range family() {
		_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.pid), []byte("5"), 0)
	}
}

// ReadPeaks reads each process's peak resident set (VmHWM).
func ReadPeaks() Memory {
	out := Memory{}
	for _, s := range family() {
		hwm, ok := readHWM(s.pid)
		if !ok {
			continue
		}
		name := s.command
		if s.pid == os.Getpid() {
			name = selfName
		}
		out[name] = max(out[name], hwm)
	}
	return out
}

// Largest lists the commands by peak, largest first.
func (m Memory) Largest() []string {
	names := slices.Collect(maps.Keys(m))
	slices.SortFunc(names, func(a, b string) int {
		if m[a] != m[b] {
			return int((m[b] - m[a]) >> 10)
		}
		return strings.Compare(a, b)
	})
	return names
}

// Line prints the peaks in MB, largest first.
func (m Memory) Line() string {
	var parts []string
	for _, name := range m.Largest() {
		parts = append(parts, fmt.Sprintf("%s %.0f MB", name, MB(m[name])))
	}
	return strings.Join(parts, ", ")
}

// MB converts bytes to megabytes (2^20).
func MB(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// family is this process and every descendant.
func family() []procStat {
	stats := readProcs()
	children := map[int][]procStat{}
	var self procStat
	for _, s := range stats {
		children[s.ppid] = append(children[s.ppid], s)
		if s.pid == os.Getpid() {
			self = s
		}
	}
	var out []procStat
	var walk func(procStat)
	walk = func(s procStat) {
		out = append(out, s)
		for _, c := range children[s.pid] {
			walk(c)
		}
	}
	walk(self)
	return out
}

func readHWM(pid int) (int64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return kb << 10, err == nil
	}
	return 0, false
}

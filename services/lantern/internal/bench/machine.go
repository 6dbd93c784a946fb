package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
)

// Machine is what the figures were measured on. The load average matters
// as much as the hardware: on a shared two-core machine other work shows
// up in every figure.
type Machine struct {
	CPUs        int
	CPUModel    string
	MemoryTotal string
	Kernel      string
	GoVersion   string
	NATSVersion string
	// NATSSync is the pipeline broker's sync setting
	// (LANTERN_NATS_SYNC_INTERVAL, as the test clusters read it).
	NATSSync        string
	PostgresVersion string
	PostgresDurable string
	LoadAverage     string
}

// Describe reads the machine's description; pool, if not nil, is asked for
// the PostgreSQL version and durability settings.
func Describe(ctx context.Context, pool *pgxpool.Pool) Machine {
	m := Machine{
		CPUs:        runtime.NumCPU(),
		CPUModel:    procField("/proc/cpuinfo", "model name"),
		MemoryTotal: procField("/proc/meminfo", "MemTotal"),
		Kernel:      firstLine("/proc/sys/kernel/osrelease"),
		GoVersion:   runtime.Version(),
		NATSVersion: server.VERSION,
		LoadAverage: LoadAverage(),
	}
	if d, err := natsembed.SyncFromEnv(); err == nil {
		m.NATSSync = natsembed.FormatSync(d)
	}
	if pool != nil {
		m.PostgresVersion = queryText(ctx, pool, `SELECT version()`)
		m.PostgresDurable = queryText(ctx, pool, `SELECT 'fsync=' || current_setting('fsync') ||
			', synchronous_commit=' || current_setting('synchronous_commit') ||
			', full_page_writes=' || current_setting('full_page_writes') ||
			', shared_buffers=' || current_setting('shared_buffers')`)
	}
	return m
}

// Markdown lists the machine as a table.
func (m Machine) Markdown() string {
	var b strings.Builder
	b.WriteString("| machine | |\n|---|---|\n")
	for _, row := range [][2]string{
		{"CPUs (nproc)", fmt.Sprint(m.CPUs)}, {"CPU model", m.CPUModel}, {"memory", m.MemoryTotal},
		{"kernel", m.Kernel}, {"Go", m.GoVersion}, {"NATS server", m.NATSVersion},
		{"NATS sync of the pipeline's broker (the raw phases say their own)", m.NATSSync},
		{"PostgreSQL", m.PostgresVersion}, {"PostgreSQL durability", m.PostgresDurable},
		{"load average at start", m.LoadAverage},
	} {
		fmt.Fprintf(&b, "| %s | %s |\n", row[0], row[1])
	}
	b.WriteString("\n")
	return b.String()
}

// LoadAverage is the kernel's 1, 5 and 15 minute load averages and its
// run queue, as /proc/loadavg gives them.
func LoadAverage() string { return firstLine("/proc/loadavg") }

func procField(path, field string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(name) == field {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

func firstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

func queryText(ctx context.Context, pool *pgxpool.Pool, sql string) string {
	var s string
	if err := pool.QueryRow(ctx, sql).Scan(&s); err != nil {
		return "unknown: " + err.Error()
	}
	return s
}

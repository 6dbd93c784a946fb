package chaos

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Figures are the numbers reported for one fault run.
type Figures struct {
	Fault   string    `json:"fault"`
	Title   string    `json:"title"`
	Profile string    `json:"profile"`
	Seed    uint64    `json:"seed"`
	Started time.Time `json:"started"`
	Config  Config    `json:"configuration"`
	// Schedule lists what was done to the cluster and when, as offsets
	// from Started.
	Schedule   []Mark      `json:"schedule"`
	Requests   Requests    `json:"workload"`
	Errors     ErrorMix    `json:"errors"`
	Lost       Lost        `json:"lost"`
	Duplicates Duplicates  `json:"duplicates"`
	Ledger     LedgerCheck `json:"ledger"`
	Timings    Timings     `json:"timings"`
	// Lag is the most messages each consumer had waiting or unacknowledged
	// at any sample during the run.
	Lag map[string]uint64 `json:"lag"`
	// Notes record fault-specific observations, such as the dead-letter
	// reasons of a poison message.
	Notes     []string `json:"notes,omitempty"`
	NotTested []string `json:"not_tested"`
}

// Config is the configuration under test.
type Config struct {
	NATSVersion         string `json:"nats_version"`
	NATSSync            string `json:"nats_sync_interval"`
	NATSReplicas        int    `json:"nats_replicas"`
	NATSStorage         string `json:"nats_storage"`
	PostgresVersion     string `json:"postgres_version"`
	SynchronousCommit   string `json:"synchronous_commit"`
	Fsync               string `json:"fsync"`
	FullPageWrites      string `json:"full_page_writes"`
	DataChecksums       string `json:"data_checksums"`
	AckWait             string `json:"ack_wait"`
	IntakeStoreTimeout  string `json:"intake_store_timeout"`
	ProcessesPerService int    `json:"processes_per_service"`
	// Network says how the services reach the broker and PostgreSQL.
	Network string `json:"network"`
}

// Mark is one step of a fault schedule.
type Mark struct {
	At   Seconds `json:"at_s"`
	What string  `json:"what"`
}

// Requests count what the clients sent and learnt.
type Requests struct {
	Notices  int `json:"notices"`
	OK       int `json:"ok"`
	Fail     int `json:"fail"`
	Unknown  int `json:"unknown"`
	Attempts int `json:"attempts"`
	// RecoveredByRetry counts notices acknowledged only after an earlier
	// attempt had an open outcome.
	RecoveredByRetry int `json:"recovered_by_retry"`
	// FalseRefusals counts notices answered "not stored" (503 or a 4xx)
	// on every attempt before one that found them already stored: a
	// definite failure that was not true. It must be zero.
	FalseRefusals int `json:"false_refusals"`
}

// ErrorMix counts attempts by how they ended.
type ErrorMix struct {
	ByStatus  map[string]int `json:"by_status"`
	Client4xx int            `json:"4xx"`
	Server5xx int            `json:"5xx"`
	Status500 int            `json:"500"`
	NoAnswer  int            `json:"no_answer"`
	// Hung counts attempts that took longer than HangAfter: the intake
	// must answer within its store timeout, whatever is broken.
	Hung      int     `json:"hung"`
	HangAfter Seconds `json:"hang_after_s"`
	Slowest   Seconds `json:"slowest_s"`
}

// Lost counts acknowledged notices and decided notifications that did not
// arrive where they must (all targets are zero).
type Lost struct {
	AckedNotStored   int `json:"acked_not_stored"`
	AckedWrongID     int `json:"acked_with_another_id"`
	StoredNotLedger  int `json:"stored_not_in_ledger"`
	StoredNotRouted  int `json:"stored_not_routed"`
	RequestNotLedger int `json:"requested_not_in_ledger"`
	// FailedButStored counts notices whose final answer was a definite
	// failure yet which are stored: a partial outcome.
	FailedButStored int `json:"failed_but_stored"`
	// ByKind is, per recipient kind, the notifications decided and those
	// missing from the inbox or from the ledger's notification.delivered.
	ByKind map[string]KindDelivery `json:"by_kind"`
	// Named lists losses by incident or notification id, when there are
	// any (Checker.NameLost).
	Named []string `json:"named,omitempty"`
}

// KindDelivery is one recipient kind's delivery count.
type KindDelivery struct {
	Decided     int `json:"decided"`
	NotInInbox  int `json:"not_in_inbox"`
	NotLedgered int `json:"not_delivered_in_ledger"`
}

// Total is every loss counted.
func (l Lost) Total() int {
	n := l.AckedNotStored + l.AckedWrongID + l.StoredNotLedger + l.StoredNotRouted + l.RequestNotLedger + l.FailedButStored
	for _, k := range l.ByKind {
		n += k.NotInInbox + k.NotLedgered
	}
	return n
}

// Duplicates counts effects recorded more than once (targets zero) and
// deliveries made more than once (allowed, reported).
type Duplicates struct {
	Incidents     int `json:"incidents"`
	Notifications int `json:"notifications"`
	Inbox         int `json:"inbox_rows"`
	LedgerEvents  int `json:"ledger_event_ids"`
	LedgerFacts   int `json:"ledger_facts"`
	Outbox        int `json:"outbox_event_ids"`
	// Redeliveries are, per consumer, deliveries beyond one per message,
	// from the consumer's sequence number on the broker.
	Redeliveries map[string]int `json:"redeliveries"`
	// PubAckDuplicates are re-publishes the stream recognised by
	// Nats-Msg-Id and dropped.
	PubAckDuplicates int `json:"puback_duplicates"`
	// StreamDuplicates are event ids stored in the stream more than once
	// (re-published after the duplicate window).
	StreamDuplicates int            `json:"stream_duplicates"`
	DeadLettered     map[string]int `json:"dead_lettered"`
}

// Effects is every duplicated effect counted.
func (d Duplicates) Effects() int {
	return d.Incidents + d.Notifications + d.Inbox + d.LedgerEvents + d.LedgerFacts + d.Outbox
}

// LedgerCheck is the result of verifying the ledger.
type LedgerCheck struct {
	Entries int64 `json:"entries"`
	// Gaps counts missing sequence numbers between 1 and the head.
	Gaps int64 `json:"gaps"`
	// FirstBadSeq is the first entry whose hash or link does not verify;
	// zero when the whole chain verifies.
	FirstBadSeq int64 `json:"first_bad_seq"`
	HeadMatches bool  `json:"head_matches"`
}

// OK reports whether the ledger verified.
func (l LedgerCheck) OK() bool { return l.Gaps == 0 && l.FirstBadSeq == 0 && l.HeadMatches }

// Timings are how the pipeline behaved over time, in seconds from the end of
// the fault unless said otherwise.
type Timings struct {
	FaultStart Seconds `json:"fault_start_s"`
	FaultEnd   Seconds `json:"fault_end_s"`
	// Detect is from the fault's start to the first attempt a client saw
	// fail; nil when no client noticed.
	Detect *Seconds `json:"detect_s"`
	// Recover is from the fault's end to the first notification.delivered
	// the ledger recorded after it.
	Recover *Seconds `json:"recover_s"`
	// Drain is from the fault's end until every notice sent before then
	// was fully delivered and recorded.
	Drain *Seconds `json:"drain_s"`
	// LedgerDuringFault counts entries recorded while the fault lasted:
	// the consumers that were not hit kept working.
	LedgerDuringFault int `json:"ledger_entries_during_fault"`
	// Latency is from a notice's first attempt to each of its deliveries
	// being recorded, for notices first sent before, during and after the
	// fault.
	Latency map[string]Latency `json:"latency"`
}

// Latency summarises end-to-end latencies in one phase.
type Latency struct {
	N   int     `json:"n"`
	P50 Seconds `json:"p50_s"`
	P99 Seconds `json:"p99_s"`
	Max Seconds `json:"max_s"`
}

// Seconds is a duration written as fractional seconds.
type Seconds float64

// Secs converts d.
func Secs(d time.Duration) Seconds { return Seconds(d.Seconds()) }

func (s Seconds) String() string { return fmt.Sprintf("%.2fs", float64(s)) }

// NotTested lists what these runs do not cover, so that no figure is read
// as covering it.
var NotTested = []string{
	"power loss or OS crash (un-fsynced writes lost) as LazyFS would show it: no LazyFS here, so F11 is NOT TESTED; F21 approximates it for the broker alone (kill -9, message blocks cut back to their size one sync interval before), and PostgreSQL's un-fsynced writes are never dropped",
	"multi-host partitions and a NATS cluster (F9) in this suite: one R1 broker on loopback; internal/natscluster partitions a three-server cluster on loopback",
	"PostgreSQL page corruption (F14's heap-page bit flip with checksums on); only the broker's files are damaged",
	"I/O errors and full disks as the kernel reports them from a failing device: strace injects the errors at the system call, a tmpfs fills",
	"network faults between the test's observers and the stores: only the services' links go through Toxiproxy",
	"clock faults (F19) and credential faults (F18)",
	"replicas > 1 and more than one process per service in this suite (internal/e2e runs two of every service through kills)",
}

// Phases of a run, for latencies.
const (
	PhaseBefore = "before"
	PhaseDuring = "during"
	PhaseAfter  = "after"
)

// Table renders the figures for a person to read.
func (f Figures) Table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(w, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("fault", "%s: %s (profile %s, seed %d)", f.Fault, f.Title, f.Profile, f.Seed)
	c := f.Config
	row("configuration", "NATS %s, sync_interval %s, R%d %s store; PostgreSQL %s, synchronous_commit %s, fsync %s, full_page_writes %s, checksums %s; ack wait %s, intake store timeout %s",
		c.NATSVersion, c.NATSSync, c.NATSReplicas, c.NATSStorage, c.PostgresVersion, c.SynchronousCommit, c.Fsync,
		c.FullPageWrites, c.DataChecksums, c.AckWait, c.IntakeStoreTimeout)
	if c.Network != "" {
		row("network", "%s", c.Network)
	}
	for i, m := range f.Schedule {
		row(label(i == 0, "schedule"), "+%s %s", m.At, m.What)
	}
	wl := f.Requests
	row("workload", "notices %d: ok %d, fail %d, unknown %d; attempts %d; acknowledged after an open outcome %d; false refusals %d",
		wl.Notices, wl.OK, wl.Fail, wl.Unknown, wl.Attempts, wl.RecoveredByRetry, wl.FalseRefusals)
	l := f.Lost
	row("lost (target 0)", "%d: acked not stored %d, acked under another id %d, not in ledger %d, not routed %d, requests not in ledger %d, failed but stored %d",
		l.Total(), l.AckedNotStored, l.AckedWrongID, l.StoredNotLedger, l.StoredNotRouted, l.RequestNotLedger, l.FailedButStored)
	for i, kind := range slices.Sorted(maps.Keys(l.ByKind)) {
		k := l.ByKind[kind]
		row(label(i == 0, "per destination"), "%-16s decided %d, missing from inbox %d, missing delivered event %d", kind, k.Decided, k.NotInInbox, k.NotLedgered)
	}
	for i, name := range l.Named {
		row(label(i == 0, "lost, by id"), "%s", name)
	}
	d := f.Duplicates
	row("duplicate effects (target 0)", "%d: incidents %d, notifications %d, inbox rows %d, ledger ids %d, ledger facts %d, outbox ids %d",
		d.Effects(), d.Incidents, d.Notifications, d.Inbox, d.LedgerEvents, d.LedgerFacts, d.Outbox)
	row("duplicate deliveries", "redeliveries %s; PubAck duplicates %d; stream duplicates %d; dead-lettered %s",
		counts(d.Redeliveries), d.PubAckDuplicates, d.StreamDuplicates, counts(d.DeadLettered))
	lc := f.Ledger
	row("ledger", "%d entries, %d gaps, first bad seq %d, head matches %t", lc.Entries, lc.Gaps, lc.FirstBadSeq, lc.HeadMatches)
	t := f.Timings
	row("timings", "fault +%s to +%s; detect (first failed attempt) %s; recover %s; drain %s; ledger entries during fault %d",
		t.FaultStart, t.FaultEnd, optional(t.Detect), optional(t.Recover), optional(t.Drain), t.LedgerDuringFault)
	for i, phase := range []string{PhaseBefore, PhaseDuring, PhaseAfter} {
		lat := t.Latency[phase]
		row(label(i == 0, "end-to-end latency"), "%-7s n %d, p50 %s, p99 %s, max %s", phase, lat.N, lat.P50, lat.P99, lat.Max)
	}
	e := f.Errors
	row("errors", "4xx %d, 5xx %d (500: %d), no answer %d, hung past %s: %d, slowest %s; by status %s",
		e.Client4xx, e.Server5xx, e.Status500, e.NoAnswer, e.HangAfter, e.Hung, e.Slowest, counts(e.ByStatus))
	row("consumer lag (max)", "%s", counts64(f.Lag))
	for i, n := range f.Notes {
		row(label(i == 0, "notes"), "%s", n)
	}
	for i, n := range f.NotTested {
		row(label(i == 0, "not tested"), "%s", n)
	}
	_ = w.Flush()
	return b.String()
}

func label(first bool, s string) string {
	if first {
		return s
	}
	return ""
}

func optional(s *Seconds) string {
	if s == nil {
		return "n/a"
	}
	return s.String()
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func counts64(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// Write stores the figures as JSON in dir, named by fault and start time,
// and returns the file's path.
func (f Figures) Write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating results folder: %w", err)
	}
	body, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding figures: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.json", f.Started.UTC().Format("20060102T150405Z"), f.Profile,
		strings.NewReplacer("/", "-", " ", "-").Replace(f.Fault))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, append(body, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("writing figures: %w", err)
	}
	return path, nil
}

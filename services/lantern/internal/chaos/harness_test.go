package chaos_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// storeTimeout is the intake's INTAKE_STORE_TIMEOUT in these runs: short,
// so that a frozen PostgreSQL is answered with 503 quickly.
const storeTimeout = 2 * time.Second

// hangAfter is the longest an attempt may take: the intake's own deadline
// plus room for a busy two-core machine. Anything slower counts as hung.
const hangAfter = storeTimeout + 3*time.Second

// profile sizes the fault runs.
type profile struct {
	name    string
	long    bool
	rate    float64
	workers int
	// warmup and cooldown are how many more notices must be acknowledged
	// before a fault starts and after it ends.
	warmup, cooldown int
	// backlog is how many notices are acknowledged while a service is
	// down, before it is started with a crash point armed.
	backlog int
	// crashes is how often a service is made to crash at a named point.
	crashes int
	// repeats is how often the broker is killed in F1.
	repeats int
	// storm is how long F10 lasts; stormGap bounds the pause between kills.
	storm    time.Duration
	stormGap [2]time.Duration
	// settle bounds the wait for the pipeline to finish its work.
	settle time.Duration
	// retryFor bounds how long a client retries one notice.
	retryFor time.Duration
}

var (
	shortProfile = profile{name: "short", rate: 10, workers: 4, warmup: 10, cooldown: 10, backlog: 5, crashes: 2,
		repeats: 1, storm: 12 * time.Second, stormGap: [2]time.Duration{time.Second, 2 * time.Second},
		settle: 2 * time.Minute, retryFor: 2 * time.Minute}
	// The long profile's rate is what two cores keep up with while
	// running every process and the test: faster, and the figures measure
	// a saturated machine rather than the faults.
	longProfile = profile{name: "long", long: true, rate: 6, workers: 8, warmup: 120, cooldown: 200, backlog: 60,
		crashes: 8, repeats: 3, storm: 10 * time.Minute, stormGap: [2]time.Duration{2 * time.Second, 5 * time.Second},
		settle: 15 * time.Minute, retryFor: 10 * time.Minute}
)

// currentProfile is the long profile when LANTERN_CHAOS=long.
func currentProfile() profile {
	if os.Getenv("LANTERN_CHAOS") == "long" {
		return longProfile
	}
	return shortProfile
}

// pick chooses a fault's duration for the profile.
func (p profile) pick(short, long time.Duration) time.Duration {
	if p.long {
		return long
	}
	return short
}

// suite is the cluster every fault run shares, and the means to check it.
type suite struct {
	c       *cluster.Cluster
	p       profile
	nc      *nats.Conn
	broker  chaos.Broker
	checker *chaos.Checker
	ref     *refdata.Set
	config  chaos.Config
	out     string
	seed    uint64
	// processes are every process that must stay up: the broker and the
	// services of the pipeline.
	processes []string
}

func newSuite(t *testing.T) *suite {
	t.Helper()
	p := currentProfile()
	c := cluster.New(t, cluster.Options{OwnPostgres: true, Proxied: true,
		Env: []string{"INTAKE_STORE_TIMEOUT=" + storeTimeout.String(), "GOMAXPROCS=1"}})
	nc := c.ConnectNATS(natsauth.Provisioner)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("opening jetstream: %v", err)
	}
	ref, err := refdata.Load(filepath.Join(cluster.Root(), "reference"))
	if err != nil {
		t.Fatalf("loading reference data: %v", err)
	}
	s := &suite{c: c, p: p, nc: nc, broker: chaos.Broker{JS: js}, checker: &chaos.Checker{Pool: c.Pool}, ref: ref,
		out: resultsDir(), seed: suiteSeed(t), processes: append([]string{c.NATSName()}, cluster.Pipeline...)}
	s.config = s.configuration(t)
	return s
}

func resultsDir() string {
	if dir := os.Getenv("LANTERN_CHAOS_OUT"); dir != "" {
		return dir
	}
	return filepath.Join("testdata", "results")
}

// suiteSeed is LANTERN_CHAOS_SEED when set, so that a run's choices can be
// repeated, and otherwise new for every run.
func suiteSeed(t *testing.T) uint64 {
	if s := os.Getenv("LANTERN_CHAOS_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LANTERN_CHAOS_SEED: %v", err)
		}
		return seed
	}
	return rand.Uint64()
}

func (s *suite) configuration(t *testing.T) chaos.Config {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := chaos.Config{AckWait: envValue(s.c.Env(), "LANTERN_ACK_WAIT"), IntakeStoreTimeout: storeTimeout.String(),
		ProcessesPerService: 1, Network: fmt.Sprintf("loopback; each service's link to the broker and to PostgreSQL through its own Toxiproxy %s proxy", toxiproxyVersion())}
	if err := s.broker.NATS(ctx, s.nc, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.NATSSync = natsembed.FormatSync(s.c.NATSSync)
	if err := s.checker.Postgres(ctx, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// toxiproxyVersion is the fault proxy's module version, as built.
func toxiproxyVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/Shopify/toxiproxy/v2" {
				return dep.Version
			}
		}
	}
	return "(version unknown)"
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// heal restarts any process an earlier run left down, so that one failed
// run does not spoil the next.
func (s *suite) heal(t *testing.T) {
	t.Helper()
	if err := s.c.Proxies().Reset(); err != nil {
		t.Fatal(err)
	}
	for _, name := range s.processes {
		if s.c.Running(name) {
			continue
		}
		t.Logf("%s was down before the run; restarting it", name)
		if name == s.c.NATSName() {
			s.c.StartNATS()
		} else {
			s.c.Start(name)
		}
	}
	s.c.WaitHealthy()
}

// fault is one entry of the catalogue: what it does to the cluster and
// what it checks beyond the common targets.
type fault struct {
	id, title string
	// prepare, when set, readies the cluster before the load starts (such
	// as moving a store onto a small filesystem) and registers its undoing
	// with t.Cleanup.
	prepare func(r *run)
	inject  func(r *run)
	check   func(r *run, f chaos.Figures, subs []*chaos.Submission)
}

// run is one fault run: a workload, a fault, and the figures.
type run struct {
	*suite
	t       *testing.T
	f       fault
	seed    uint64
	rng     *rand.Rand
	started time.Time
	window  chaos.Window
	// frozen is when a frozen process was fully stopped, for checks of
	// what was answered meanwhile.
	frozen chaos.Window
	load   *chaos.Workload

	mu    sync.Mutex
	marks []chaos.Mark
	lag   map[string]uint64
	notes []string
	// poison holds the stream sequences of poison messages published, and
	// poisonEvent the id of the well-formed one.
	poison      map[string]bool
	poisonEvent string
	logs        map[string]chaos.LogTally
	// delivered is every consumer's delivery count when the run began,
	// to count redeliveries from.
	delivered map[string]chaos.Deliveries
	dlqSeen   int
	// mostSessions is the most PostgreSQL client sessions sampled.
	mostSessions int
	// injected counts the system calls strace made fail; filled the bytes
	// written to fill a small filesystem; disk is that filesystem.
	injected int
	filled   int64
	disk     smallDisk
	// brokerLogFrom and pgLogFrom are where the broker's and PostgreSQL's
	// logs stood when the run began.
	brokerLogFrom, pgLogFrom int
	// lostBeforeRepair counts what F14's damage lost before Lantern's
	// reconciliation.
	lostBeforeRepair int
	// cut counts the bytes F21 cut off the broker's message blocks.
	cut int64
}

func (s *suite) newRun(t *testing.T, f fault) *run {
	t.Helper()
	h := fnv.New64a()
	h.Write([]byte(f.id))
	seed := s.seed ^ h.Sum64()
	gen, err := chaos.NewGenerator(s.ref, fmt.Sprintf("%s-%06x", strings.ReplaceAll(f.id, "/", "."), seed&0xffffff), seed, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	client := &chaos.Client{BaseURL: s.c.BaseURL, Token: cluster.PoliceToken,
		HTTP:     &http.Client{Timeout: hangAfter + 10*time.Second},
		RetryFor: s.p.retryFor, Backoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, Rand: chaos.LockedRand(seed)}
	r := &run{suite: s, t: t, f: f, seed: seed, rng: rand.New(rand.NewPCG(seed, 1)), started: time.Now(),
		load: chaos.NewWorkload(gen, client, s.p.rate, s.p.workers), lag: map[string]uint64{}, poison: map[string]bool{}}
	t.Cleanup(func() {
		r.load.Abort()
		_, _ = r.load.Stop()
	})
	return r
}

// mark records a step of the fault schedule.
func (r *run) mark(what string) time.Time {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marks = append(r.marks, chaos.Mark{At: chaos.Secs(now.Sub(r.started)), What: what})
	return now
}

func (r *run) faultStarts(what string) { r.window.Start = r.mark(what) }
func (r *run) faultEnds(what string)   { r.window.End = r.mark(what) }

func (r *run) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// hold lets a fault last for d. It is the fault itself, not a wait for
// something to happen.
func (r *run) hold(d time.Duration) { <-time.After(d) }

// between is a random duration in [lo, hi).
func (r *run) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)+1))
}

// waitAcked waits until n more notices than now have been acknowledged.
func (r *run) waitAcked(n int) {
	r.t.Helper()
	want := r.load.Acked() + n
	natstest.CheckFor(r.t, r.p.settle, 50*time.Millisecond, func() error {
		if got := r.load.Acked(); got < want {
			return fmt.Errorf("%d of %d notices acknowledged", got, want)
		}
		return nil
	})
}

// kill ends a process with SIGKILL and records it.
func (r *run) kill(name string) {
	r.mark("kill -9 " + name)
	r.c.Kill(name)
}

// restart starts a killed or stopped process again, with extra
// environment for a service.
func (r *run) restart(name string, env ...string) {
	if name == r.c.NATSName() {
		r.c.StartNATS()
		r.mark("restart " + name + " on the same port and store")
		return
	}
	r.c.Start(name, env...)
	r.mark(strings.TrimSpace("start " + name + " " + strings.Join(env, " ")))
}

// expectCrash waits for a service started with a crash point armed to kill
// itself.
func (r *run) expectCrash(name, point string) {
	r.t.Helper()
	err := r.c.WaitExit(name, r.p.settle)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		r.t.Fatalf("%s should have been killed at %s, got %v", name, point, err)
	}
	r.mark(name + " killed itself at " + point)
}

func (s *suite) runFault(t *testing.T, f fault) {
	s.heal(t)
	r := s.newRun(t, f)
	// Work an earlier run left unfinished would count against this one.
	natstest.CheckFor(t, s.p.settle, time.Second, r.finished)
	if f.prepare != nil {
		f.prepare(r)
		s.c.WaitHealthy()
	}
	r.logs = r.tallyLogs()
	r.brokerLogFrom = len(s.c.Log(s.c.NATSName()))
	if info, err := os.Stat(s.c.PG.LogPath()); err == nil {
		r.pgLogFrom = int(info.Size())
	}
	r.delivered = r.deliveries(context.Background())
	r.dlqSeen = len(r.deadLetters())
	stopLag := r.sampleLag()
	r.mark("load starts")
	r.load.Start()
	r.waitAcked(s.p.warmup)
	f.inject(r)
	r.waitAcked(s.p.cooldown)
	subs, err := r.load.Stop()
	r.mark("load stops")
	if err != nil {
		t.Fatalf("generating notices: %v", err)
	}
	r.settle()
	stopLag()
	figures := r.figures(subs)
	if f.check != nil {
		f.check(r, figures, subs)
	}
	figures.Notes = r.notes
	r.report(figures)
	r.assertTargets(figures)
}

// sampleLag records the largest backlog of every consumer until the
// returned function is called.
func (r *run) sampleLag() func() {
	return clock.Every(250*time.Millisecond, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if sessions, err := r.sessionCount(ctx); err == nil {
			r.mu.Lock()
			r.mostSessions = max(r.mostSessions, sessions)
			r.mu.Unlock()
		}
		lag, err := r.broker.Lag(ctx)
		if err != nil {
			return // the broker is down or frozen: nothing to sample.
		}
		r.mu.Lock()
		for name, n := range lag {
			r.lag[name] = max(r.lag[name], n)
		}
		r.mu.Unlock()
	})
}

// settle waits until everything accepted has gone all the way through and
// no consumer has anything outstanding. A process that died on its own
// ends the wait at once: nothing restarts it.
func (r *run) settle() {
	r.t.Helper()
	deadline := time.Now().Add(r.p.settle)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if dead := r.deadProcesses(); len(dead) > 0 {
			r.t.Errorf("processes exited on their own during the run: %v", dead)
			for _, name := range dead {
				r.t.Logf("--- %s log tail ---\n%s", name, tail(r.c.Log(name), 4000))
			}
			return
		}
		if last = r.finished(); last == nil {
			r.mark("pipeline settled")
			return
		}
		if time.Now().After(deadline) {
			r.t.Errorf("pipeline did not settle within %s: %v", r.p.settle, last)
			return
		}
		<-tick.C
	}
}

func (r *run) finished() error {
	// Counting over a large ledger while the pipeline is busy takes a
	// while on two cores.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := r.checker.Unfinished(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d items of work outstanding in PostgreSQL", n)
	}
	return r.broker.Idle(ctx)
}

func (r *run) deadProcesses() []string {
	var dead []string
	for _, name := range r.processes {
		if !r.c.Running(name) {
			dead = append(dead, name)
		}
	}
	return dead
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func (r *run) tallyLogs() map[string]chaos.LogTally {
	out := map[string]chaos.LogTally{}
	for _, name := range cluster.Pipeline {
		out[name] = chaos.TallyLog(r.c.Log(name))
	}
	return out
}

func (r *run) deliveries(ctx context.Context) map[string]chaos.Deliveries {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, err := r.broker.Deliveries(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

func (r *run) deadLetters() []chaos.DeadLetter {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dl, err := r.broker.DeadLetters(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return dl
}

// figures gathers every figure of the run.
func (r *run) figures(subs []*chaos.Submission) chaos.Figures {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f := chaos.Figures{Fault: r.f.id, Title: r.f.title, Profile: r.p.name, Seed: r.seed, Started: r.started,
		Config: r.config, NotTested: chaos.NotTested}
	f.Requests, f.Errors = chaos.Summarise(subs, hangAfter)
	var err error
	if f.Lost, err = r.checker.Lost(ctx, subs); err != nil {
		r.t.Fatal(err)
	}
	if f.Lost.Total() > 0 {
		if f.Lost.Named, err = r.checker.NameLost(ctx, subs, 50); err != nil {
			r.t.Fatal(err)
		}
	}
	if f.Duplicates, err = r.checker.DuplicateEffects(ctx); err != nil {
		r.t.Fatal(err)
	}
	r.countDeliveries(ctx, &f.Duplicates)
	if f.Ledger, err = r.checker.VerifyLedger(ctx); err != nil {
		r.t.Fatal(err)
	}
	recorded, err := r.checker.Recorded(ctx, subs)
	if err != nil {
		r.t.Fatal(err)
	}
	f.Timings = chaos.Timeline(subs, recorded, r.window)
	f.Timings.Detect = chaos.Detect(subs, r.window)
	f.Timings.FaultStart, f.Timings.FaultEnd = chaos.Secs(r.window.Start.Sub(r.started)), chaos.Secs(r.window.End.Sub(r.started))
	r.mu.Lock()
	defer r.mu.Unlock()
	f.Schedule, f.Lag, f.Notes = r.marks, r.lag, r.notes
	return f
}

// countDeliveries fills the allowed duplicates: redeliveries and
// re-publishes from the services' logs, copies in the stream, and the
// messages dead-lettered during the run.
func (r *run) countDeliveries(ctx context.Context, d *chaos.Duplicates) {
	for name, now := range r.tallyLogs() {
		d.PubAckDuplicates += now.Minus(r.logs[name]).PubAckDuplicates
	}
	d.Redeliveries = map[string]int{}
	for name, now := range r.deliveries(ctx) {
		switch n := now.Redeliveries(r.delivered[name]); {
		case n > 0:
			d.Redeliveries[name] = int(n)
		case n < 0:
			r.note("the broker forgot %d of %s's deliveries (consumer state written after the crash point)", -n, name)
		}
	}
	var err error
	if d.StreamDuplicates, err = r.broker.StreamDuplicates(ctx); err != nil {
		r.t.Fatal(err)
	}
	d.DeadLettered = map[string]int{}
	examples := 0
	for _, dl := range r.newDeadLetters() {
		d.DeadLettered[dl.Consumer]++
		if !r.poison[dl.StreamSeq] && examples < 5 {
			examples++
			r.note("unexpected dead letter from %s: stream sequence %s, reason %q", dl.Consumer, dl.StreamSeq, dl.Reason)
		}
	}
}

func (r *run) newDeadLetters() []chaos.DeadLetter {
	return r.deadLetters()[r.dlqSeen:]
}

func (r *run) report(f chaos.Figures) {
	r.t.Helper()
	r.t.Logf("\n%s", f.Table())
	path, err := f.Write(r.out)
	if err != nil {
		r.t.Error(err)
		return
	}
	r.t.Logf("figures written to %s", path)
}

// assertTargets checks the targets every fault run must meet.
func (r *run) assertTargets(f chaos.Figures) {
	r.t.Helper()
	unexpected := 0
	for _, dl := range r.newDeadLetters() {
		if !r.poison[dl.StreamSeq] {
			unexpected++
		}
	}
	got := map[string]int{
		"acknowledged notices or deliveries lost": f.Lost.Total(),
		"duplicate effects":                       f.Duplicates.Effects(),
		"notices never acknowledged":              f.Requests.Notices - f.Requests.OK,
		"refusals of notices already stored":      f.Requests.FalseRefusals,
		"500 answers":                             f.Errors.Status500,
		"hung requests":                           f.Errors.Hung,
		"ledger sequence gaps":                    int(f.Ledger.Gaps),
		"first ledger entry failing verification": int(f.Ledger.FirstBadSeq),
		"ledger head mismatches":                  boolInt(!f.Ledger.HeadMatches),
		"unexpected dead letters":                 unexpected,
		"runs without recovery after the fault":   boolInt(f.Timings.Recover == nil),
	}
	want := map[string]int{}
	for k := range got {
		want[k] = 0
	}
	if diff := cmp.Diff(want, got); diff != "" {
		r.t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

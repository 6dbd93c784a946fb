package chaos_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/faults"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
)

// TestChaos runs every fault of the catalogue against one cluster of real
// processes, one after the other, each under its own workload.
func TestChaos(t *testing.T) {
	s := newSuite(t)
	t.Logf("profile %s, suite seed %d (set LANTERN_CHAOS_SEED to repeat)", s.p.name, s.seed)
	for _, f := range catalogue(s.p) {
		t.Run(f.id, func(t *testing.T) { s.runFault(t, f) })
	}
}

// catalogue lists the faults in the order they run. The corruption faults
// come last: F14's damaged meta file can leave the stream to be declared
// again, which a fault run after it would inherit.
func catalogue(p profile) []fault {
	return slices.Concat(baseFaults(p), networkFaults(p), diskFaults(p), powerLossFaults(p), corruptionFaults())
}

func baseFaults(p profile) []fault {
	return []fault{
		{id: "F1", title: "NATS process crash during publish (kill -9 lantern-nats, restart on the same store)",
			inject: brokerCrash(p.repeats, p.pick(time.Second, 5*time.Second))},
		{id: "F2/router", title: "router crashes after committing, before acknowledging (consume.before_ack)",
			inject: crashAt("router", faults.ConsumeBeforeAck)},
		{id: "F2/delivery", title: "delivery crashes after committing, before acknowledging (consume.before_ack)",
			inject: crashAt("delivery", faults.ConsumeBeforeAck)},
		{id: "F2/ledger", title: "ledger crashes after committing, before acknowledging (consume.before_ack)",
			inject: crashAt("ledger", faults.ConsumeBeforeAck)},
		{id: "F3/intake", title: "intake's outbox relay crashes after publishing, before marking published (relay.after_publish)",
			inject: crashAt("intake", faults.RelayAfterPublish), check: republishDeduplicated},
		{id: "F3/router", title: "router's outbox relay crashes after publishing, before marking published (relay.after_publish)",
			inject: crashAt("router", faults.RelayAfterPublish), check: republishDeduplicated},
		{id: "F3/delivery", title: "delivery's outbox relay crashes after publishing, before marking published (relay.after_publish)",
			inject: crashAt("delivery", faults.RelayAfterPublish), check: republishDeduplicated},
		{id: "F4", title: "intake crashes after committing, before answering (intake.after_commit)",
			inject: intakeCrash, check: answerLostThenFound},
		{id: "F5", title: "PostgreSQL crash (kill -9 postmaster and backends, restart with crash recovery)",
			inject: postgresCrash(p.pick(2*time.Second, 15*time.Second))},
		{id: "F6", title: "NATS frozen longer than the ack wait and publish timeouts (SIGSTOP, SIGCONT)",
			inject: freeze(broker, p.pick(6*time.Second, 45*time.Second))},
		{id: "F7", title: "PostgreSQL frozen (SIGSTOP postmaster and backends, SIGCONT)",
			inject: postgresFreeze(p.pick(4*time.Second, 30*time.Second)), check: refusedWithinDeadline},
		{id: "F10", title: "restart storm: kill -9 a random process and restart it, again and again",
			inject: storm(p.storm, p.stormGap)},
		{id: "F16", title: "stuck consumer: delivery frozen with SIGSTOP while the load continues",
			inject: freeze("delivery", p.pick(5*time.Second, 60*time.Second)), check: othersKeptGoing},
		{id: "F17", title: "poison messages on sg.incident.reported (not a CloudEvent; data failing its schema)",
			inject: poison, check: poisonDeadLettered},
	}
}

// brokerCrash kills the broker under load and restarts it on the same port
// and store, repeats times.
func brokerCrash(repeats int, down time.Duration) func(*run) {
	return func(r *run) {
		nats := r.c.NATSName()
		for i := range repeats {
			if i > 0 {
				r.waitAcked(r.p.warmup / 2)
			}
			// A random moment, so that the kill lands in the middle of
			// some relay's batch rather than between them.
			r.hold(r.between(0, 500*time.Millisecond))
			if i == 0 {
				r.faultStarts("kill -9 " + nats)
			} else {
				r.mark("kill -9 " + nats)
			}
			r.c.Kill(nats)
			r.hold(down)
			r.restart(nats)
		}
		r.faultEnds("broker back")
	}
}

// crashAt stops a service while notices pile up for it, then starts it
// with a crash point armed, so that it dies there (after committing the
// first message of its batch and before acknowledging it; after its relay
// published a batch and before marking it), several times. The intake
// accepts nothing while stopped, so its backlog builds in the clients.
func crashAt(name, point string) func(*run) {
	return func(r *run) {
		r.faultStarts("stop " + name + " (SIGTERM) so that a backlog builds")
		r.c.Stop(name)
		if name != "intake" {
			r.waitAcked(r.p.backlog)
		}
		for range r.p.crashes {
			r.restart(name, faults.EnvVar+"="+point)
			r.expectCrash(name, point)
		}
		r.restart(name)
		r.faultEnds(name + " running unarmed")
	}
}

// intakeCrash makes the intake die after committing a notice and before
// answering, several times; the clients retry with the same key.
func intakeCrash(r *run) {
	r.faultStarts("stop intake (SIGTERM)")
	r.c.Stop("intake")
	for range r.p.crashes {
		r.restart("intake", faults.EnvVar+"="+faults.IntakeAfterCommit)
		r.expectCrash("intake", faults.IntakeAfterCommit)
	}
	r.restart("intake")
	r.faultEnds("intake running unarmed")
}

// republishDeduplicated checks F3's promise: the batch a relay published
// before dying is published again, and the stream recognises it by its
// Nats-Msg-Id instead of storing it twice.
func republishDeduplicated(r *run, f chaos.Figures, _ []*chaos.Submission) {
	if f.Duplicates.PubAckDuplicates == 0 {
		r.t.Errorf("no re-published event was acknowledged as a duplicate; the crash after publishing was not exercised")
	}
	if f.Duplicates.StreamDuplicates > 0 {
		r.t.Errorf("the stream stored %d re-published events twice", f.Duplicates.StreamDuplicates)
	}
}

// answerLostThenFound checks F4's promise: a client whose answer was lost
// retries with the same key and is given the incident already stored.
func answerLostThenFound(r *run, f chaos.Figures, _ []*chaos.Submission) {
	if f.Requests.RecoveredByRetry == 0 {
		r.t.Errorf("no notice was acknowledged after a lost answer; the crash after commit was not exercised")
	}
}

func postgresCrash(down time.Duration) func(*run) {
	return func(r *run) {
		r.hold(r.between(0, 500*time.Millisecond))
		r.faultStarts("kill -9 postgres (postmaster and every backend)")
		if err := r.c.PG.Kill(); err != nil {
			r.t.Fatal(err)
		}
		r.hold(down)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := r.c.PG.Restart(ctx); err != nil {
			r.t.Fatal(err)
		}
		r.faultEnds("postgres restarted after crash recovery")
	}
}

// broker stands for the broker process in the catalogue, whose name the
// cluster gives.
const broker = "broker"

// freeze pauses a process with SIGSTOP for d.
func freeze(name string, d time.Duration) func(*run) {
	return func(r *run) {
		if name == broker {
			name = r.c.NATSName()
		}
		r.faultStarts("SIGSTOP " + name)
		r.c.Pause(name)
		defer func() {
			r.c.Resume(name)
			r.faultEnds("SIGCONT " + name)
		}()
		r.hold(d)
	}
}

func postgresFreeze(d time.Duration) func(*run) {
	return func(r *run) {
		r.faultStarts("SIGSTOP postgres (postmaster and every backend)")
		if err := r.c.PG.Pause(); err != nil {
			r.t.Fatal(err)
		}
		// A request answered while the signals were still being sent may
		// have been served; the frozen window starts once all have landed.
		r.frozen.Start = r.mark("postgres frozen")
		defer func() {
			r.frozen.End = time.Now()
			if err := r.c.PG.Resume(); err != nil {
				r.t.Error(err)
			}
			r.faultEnds("SIGCONT postgres")
		}()
		r.hold(d)
	}
}

// refusedWithinDeadline checks F7's promise: while PostgreSQL is frozen the
// intake answers 503 within its store timeout, and never hangs.
func refusedWithinDeadline(r *run, _ chaos.Figures, subs []*chaos.Submission) {
	statuses := map[int]int{}
	var slowest time.Duration
	for _, s := range subs {
		for _, a := range s.Attempts {
			if a.Start.Before(r.frozen.Start) || a.Start.Add(a.Duration).After(r.frozen.End) {
				continue
			}
			statuses[a.Status]++
			slowest = max(slowest, a.Duration)
		}
	}
	r.note("attempts made and answered while PostgreSQL was frozen: %v, slowest %s", statuses, slowest.Round(time.Millisecond))
	if statuses[http.StatusServiceUnavailable] == 0 {
		r.t.Errorf("no attempt was refused with 503 while PostgreSQL was frozen: %v", statuses)
	}
	delete(statuses, http.StatusServiceUnavailable)
	if diff := cmp.Diff(map[int]int{}, statuses); diff != "" {
		r.t.Errorf("answers other than 503 while PostgreSQL was frozen (-want +got):\n%s", diff)
	}
	if limit := storeTimeout + time.Second; slowest > limit {
		r.t.Errorf("slowest answer while PostgreSQL was frozen took %s, more than %s", slowest, limit)
	}
}

// storm kills a random process every gap[0] to gap[1] and restarts it
// after up to a second, for d.
func storm(d time.Duration, gap [2]time.Duration) func(*run) {
	return func(r *run) {
		// The gateway holds no state; the intake behind it does.
		victims := slices.DeleteFunc(slices.Clone(r.processes), func(name string) bool { return name == "gateway" })
		r.faultStarts("storm begins")
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			r.hold(r.between(gap[0], gap[1]))
			name := victims[r.rng.IntN(len(victims))]
			r.kill(name)
			r.hold(r.between(0, time.Second))
			r.restart(name)
		}
		r.faultEnds("storm ends")
	}
}

// othersKeptGoing checks F16's promise: while delivery was frozen, the
// ledger kept recording and the router kept deciding.
func othersKeptGoing(r *run, f chaos.Figures, _ []*chaos.Submission) {
	if f.Timings.LedgerDuringFault == 0 {
		r.t.Errorf("the ledger recorded nothing while delivery was frozen")
	}
	r.note("delivery's largest backlog: %d messages; ledger entries recorded meanwhile: %d", f.Lag["delivery"], f.Timings.LedgerDuringFault)
}

// poison publishes two messages the router cannot use: bytes that are not
// a CloudEvent, and an incident.reported whose data fails its schema.
func poison(r *run) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	subject, _ := events.Subject(events.IncidentReported, "")
	r.faultStarts("publish poison messages on " + subject)
	garbage := &nats.Msg{Subject: subject, Data: []byte("not a cloudevent {")}
	r.publishPoison(ctx, garbage, "bytes that are not a CloudEvent")
	id := uuid.NewString()
	r.poisonEvent = uuid.NewString()
	e, err := cloudevent.New(cloudevent.Spec{ID: r.poisonEvent, Type: events.IncidentReported, Source: events.SourceIntake,
		Subject: id, IncidentID: id, Actor: "police:" + chaos.ForceCode, Time: time.Now(),
		Data: map[string]any{"incident_id": 42, "received_at": "yesterday"}})
	if err != nil {
		r.t.Fatal(err)
	}
	msg, err := cloudevent.ToMsg(e, subject)
	if err != nil {
		r.t.Fatal(err)
	}
	r.publishPoison(ctx, msg, "an incident.reported whose data fails its schema")
	r.faultEnds("poison published")
}

func (r *run) publishPoison(ctx context.Context, msg *nats.Msg, what string) {
	r.t.Helper()
	ack, err := r.broker.JS.PublishMsg(ctx, msg, jetstream.WithExpectStream(bus.EventsStream))
	if err != nil {
		r.t.Fatalf("publishing poison: %v", err)
	}
	seq := strconv.FormatUint(ack.Sequence, 10)
	r.mu.Lock()
	r.poison[seq] = true
	r.mu.Unlock()
	r.mark("published " + what + " at stream sequence " + seq)
}

// poisonDeadLettered checks F17's promise: the router dead-letters every
// poison message with a reason, and later notices flow as before.
func poisonDeadLettered(r *run, f chaos.Figures, _ []*chaos.Submission) {
	byRouter := map[string]bool{}
	for _, dl := range r.newDeadLetters() {
		if !r.poison[dl.StreamSeq] {
			continue
		}
		r.note("dead-lettered by %s: stream sequence %s, reason %q", dl.Consumer, dl.StreamSeq, dl.Reason)
		if dl.Reason == "" {
			r.t.Errorf("dead letter from %s at sequence %s has no reason", dl.Consumer, dl.StreamSeq)
		}
		if dl.Consumer == "router" {
			byRouter[dl.StreamSeq] = true
		}
	}
	if diff := cmp.Diff(r.poison, byRouter); diff != "" {
		r.t.Errorf("poison messages dead-lettered by the router (-published +dead-lettered):\n%s", diff)
	}
	if f.Timings.Recover == nil || *f.Timings.Recover > 10 {
		r.t.Errorf("deliveries did not resume promptly after the poison: recover %v", f.Timings.Recover)
	}
	// The ledger records every well-formed event, whether or not its data
	// passes the schema; say which it did.
	var seq int64
	err := r.c.Pool.QueryRow(context.Background(), `SELECT seq FROM ledger.entries WHERE event_id = $1`, r.poisonEvent).Scan(&seq)
	switch {
	case err == nil:
		r.note("the ledger recorded the event whose data fails its schema, at sequence %d", seq)
	case errors.Is(err, pgx.ErrNoRows):
		r.note("the ledger did not record the event whose data fails its schema")
	default:
		r.t.Error(err)
	}
}

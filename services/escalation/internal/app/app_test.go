package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sethvargo/go-envconfig"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/app"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/config"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var migrate = pgtest.WithPool(func(ctx context.Context, pool *pgxpool.Pool) error {
	return sla.New(pool, sla.Options{Clock: clock.System, Rules: sla.DefaultRules()}).Migrate(ctx)
})

var (
	requestedAt = time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC)
	dueAt       = time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	school      = events.Recipient{Kind: events.KindSchool, ID: "118234", Name: "Chatham Hill Primary School",
		Email: "dsl@chathamhill-primary.medway.lantern.test"}
	notificationID = cloudevent.DeriveID("notification", "app-test")
	incidentID     = cloudevent.DeriveID("incident", "app-test")
)

// publish puts events on the stream the way their producers would.
func publish(t *testing.T, js jetstream.JetStream, typ events.Type, at time.Time, data any) {
	t.Helper()
	spec, _ := events.Lookup(typ)
	e, err := cloudevent.New(cloudevent.Spec{ID: cloudevent.DeriveID(notificationID, string(typ)), Type: typ,
		Source: spec.Sources[0], Subject: notificationID, IncidentID: incidentID, Actor: "service:test", Time: at, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	subject, err := events.Subject(typ, events.KindSchool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bus.NewPublisher(js).Publish(t.Context(), e, subject); err != nil {
		t.Fatal(err)
	}
}

// requestedData is the router's request to tell the school, with a
// minimal Operation Encompass notice.
func requestedData(requested, due time.Time) events.NotificationRequestedData {
	return events.NotificationRequestedData{
		NotificationID: notificationID, IncidentID: incidentID, RuleID: "R8", PolicyVersion: "default-2026.1",
		Recipient: school, ChildIDs: []string{"C-1"}, RequestedAt: requested, DueAt: due, Calendar: "school_day",
		Profile: "B_minimal", LawfulBasis: "UK GDPR Art 6(1)(e) public task",
		Notice: json.RawMessage(`{"occurred_at":"2026-11-20T22:15:00Z","children":[{"person_id":"C-1","name":"Test Child","date_of_birth":"2019-05-01","present":true}]}`),
	}
}

func TestConsumesEventsAndRelaysAlarms(t *testing.T) {
	js := natstest.RunServer(t).Streams(t)
	pool, err := pgdb.Open(t.Context(), pgtest.NewDatabase(t, "escalation", migrate))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ref, err := refdata.Load("../../../../reference")
	if err != nil {
		t.Fatal(err)
	}

	// Everything is published before the service starts, as after an
	// outage: the delivery, then the request it answers.
	publish(t, js, events.NotificationDelivered, requestedAt.Add(time.Second), events.NotificationDeliveredData{
		NotificationID: notificationID, IncidentID: incidentID, Recipient: school,
		DeliveredAt: requestedAt.Add(time.Second), Channel: "inbox", DueAt: dueAt})
	publish(t, js, events.NotificationRequested, requestedAt, requestedData(requestedAt, dueAt))

	fake := clock.NewFake(requestedAt)
	log := zaptest.NewLogger(t)
	esc := sla.New(pool, sla.Options{Clock: fake, Rules: sla.DefaultRules(), IDs: testIDs, Reference: func() *refdata.Set { return ref }, Log: log})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	spec := app.ConsumerSpec(&config.Config{Consumer: pkgconfig.Consumer{AckWait: 5 * time.Second}})
	wg.Go(func() {
		if err := bus.Consume(ctx, js, spec, esc.Handle, log); err != nil {
			t.Errorf("consume: %v", err)
		}
	})
	wg.Go(func() { _ = esc.Outbox().NewRelay(pool, bus.NewPublisher(js), log).Run(ctx) })

	waitCtx, waitCancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer waitCancel()
	if err := bus.WaitCaughtUp(waitCtx, js, spec, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Caught up means both events are applied: the first tick, at the
	// at-risk time, warns about the acknowledgement alone.
	fake.Set(dueAt.Add(-time.Hour))
	if n, err := esc.Tick(t.Context()); err != nil || n != 1 {
		t.Fatalf("Tick() = %d, %v; want 1 alarm", n, err)
	}

	subject, _ := events.Subject(events.SLAAtRisk, events.KindSchool)
	stream, err := js.Stream(t.Context(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	var got events.SLAData
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		msg, err := stream.GetLastMsgForSubject(t.Context(), subject)
		if err != nil {
			return err
		}
		e, err := cloudevent.FromMsg(msg.Header, msg.Data)
		if err != nil {
			return err
		}
		if want := sla.EventID(testIDs, notificationID, events.StepAcknowledgement, sla.LevelAtRisk); e.ID() != want {
			return errors.New("the relayed event has id " + e.ID() + ", want " + want)
		}
		return cloudevent.DecodeData(e, &got)
	})
	want := events.SLAData{NotificationID: notificationID, IncidentID: incidentID, Recipient: school, RuleID: "R8",
		Step: events.StepAcknowledgement, DueAt: dueAt, ObservedAt: dueAt.Add(-time.Hour), ManagerContact: school.Email}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("relayed at-risk data (-want +got):\n%s", diff)
	}
}

func TestRunRaisesADeadlineMissedWhileDown(t *testing.T) {
	srv := natstest.RunServer(t)
	js := srv.Streams(t)
	var cfg config.Config
	env := envconfig.MapLookuper(map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t, "escalation-empty", nil), "NATS_URL": srv.URL(),
		"LANTERN_REFERENCE_DIR": "../../../../reference", "LANTERN_SLA_TICK": "100ms",
		"ESCALATION_ADMIN_ADDR": "127.0.0.1:0", "LANTERN_EVENT_ID_KEY": "escalation-test-event-id-key",
	})
	if err := envconfig.ProcessWith(t.Context(), &envconfig.Config{Target: &cfg, Lookuper: env}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// A notice whose deadline passed a day ago by the real clock, which Run
	// uses, never delivered: the service was not running when it was due.
	due := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	publish(t, js, events.NotificationRequested, due.Add(-time.Hour), requestedData(due.Add(-time.Hour), due))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serverenv.Run(ctx, zaptest.NewLogger(t), app.Service, &cfg) }()
	stream, err := js.Stream(t.Context(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	// The request, then one breach per step and no late warning.
	natstest.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		info, err := stream.Info(t.Context())
		if err != nil {
			return err
		}
		if info.State.Msgs < 3 {
			return fmt.Errorf("the stream holds %d messages, want 3", info.State.Msgs)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v after its context ended, want nil", err)
	}
	type raised struct {
		Type events.Type
		ID   string
	}
	var got []raised
	for seq := uint64(2); ; seq++ {
		msg, err := stream.GetMsg(t.Context(), seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		e, err := cloudevent.FromMsg(msg.Header, msg.Data)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, raised{Type: events.Type(e.Type()), ID: e.ID()})
	}
	want := []raised{
		{events.SLABreached, sla.EventID(testIDs, notificationID, events.StepAcknowledgement, sla.LevelBreached)},
		{events.SLABreached, sla.EventID(testIDs, notificationID, events.StepDelivery, sla.LevelBreached)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events raised on start (-want +got):\n%s", diff)
	}
}

// testIDs is the escalation service's key in these tests, so that they see
// the keyed ids a deployment has.
var testIDs = cloudevent.KeyedIDs("escalation-test-event-id-key")

package sla_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/contacts"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// sampleReference is the reference data shipped with Lantern.
const sampleReference = "../../../../reference"

// Recipients from the sample reference data.
var (
	medwayMASH = events.Recipient{Kind: events.KindMASH, ID: "E06000035", Name: "Medway Council MASH",
		Email: "mash@medway.lantern.test"}
	chathamHill = events.Recipient{Kind: events.KindSchool, ID: "118234", Name: "Chatham Hill Primary School",
		Email: "dsl@chathamhill-primary.medway.lantern.test"}
)

var migrate = pgtest.WithPool(func(ctx context.Context, pool *pgxpool.Pool) error {
	return sla.New(pool, sla.Options{Clock: clock.System, Rules: sla.DefaultRules()}).Migrate(ctx)
})

// bundle is an escalation service on a database of its own, driven by a
// fake clock.
type bundle struct {
	url   string
	clock *clock.Fake
	ref   *refdata.Set
	book  *contacts.Book
	esc   *sla.Escalator
	pool  *pgxpool.Pool
}

func setup(t *testing.T, start time.Time) *bundle {
	t.Helper()
	ref, err := refdata.Load(sampleReference)
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{url: pgtest.NewDatabase(t, "escalation", migrate), clock: clock.NewFake(start), ref: ref}
	b.pool = b.openPool(t)
	b.esc = b.newEscalator(t, b.pool)
	return b
}

func (b *bundle) openPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgdb.Open(t.Context(), b.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newEscalator is another instance of the service on the same database, as
// after a restart or on a second replica.
func (b *bundle) newEscalator(t *testing.T, pool *pgxpool.Pool) *sla.Escalator {
	t.Helper()
	return sla.New(pool, sla.Options{Clock: b.clock, Rules: sla.DefaultRules(), IDs: testIDs,
		Reference: func() *refdata.Set { return b.ref }, Contacts: func() *contacts.Book { return b.book },
		Log: zaptest.NewLogger(t), Batch: 7})
}

func (b *bundle) handle(t *testing.T, events ...cloudevent.Event) {
	t.Helper()
	for _, e := range events {
		if err := b.esc.Handle(t.Context(), e); err != nil {
			t.Fatalf("handling %s %s: %v", e.Type(), e.ID(), err)
		}
	}
}

// tickAt moves the clock to at, ticks once and returns how many alarms the
// tick raised.
func (b *bundle) tickAt(t *testing.T, at time.Time) int {
	t.Helper()
	b.clock.Set(at)
	n, err := b.esc.Tick(t.Context())
	if err != nil {
		t.Fatalf("tick at %v: %v", at, err)
	}
	return n
}

// tick is a moment the scheduler runs at, and how many alarms it must
// raise then.
type tick struct {
	at   time.Time
	want int
}

// ticks runs the scheduler at each moment in turn.
func (b *bundle) ticks(t *testing.T, ticks ...tick) {
	t.Helper()
	for _, tk := range ticks {
		if got := b.tickAt(t, tk.at); got != tk.want {
			t.Errorf("tick at %v (%v London) raised %d alarms, want %d", tk.at, tk.at.In(londonZone(t)), got, tk.want)
		}
	}
}

// alarm is what a test checks of one SLA event in the outbox.
type alarm struct {
	Type           events.Type
	Subject        string
	NotificationID string
	Step           string
	RuleID         string
	DueAt          time.Time
	ObservedAt     time.Time
	ManagerContact string
	PoliceContact  string
}

// alarms reads every SLA event in the outbox, oldest first, and checks
// each against its schema and its deterministic id.
func (b *bundle) alarms(t *testing.T) []alarm {
	t.Helper()
	rows, err := b.pool.Query(t.Context(), `SELECT subject, event FROM escalation.outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		subject string
		body    []byte
	}
	stored, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.subject, &x.body)
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []alarm
	for _, s := range stored {
		out = append(out, decodeAlarm(t, s.subject, s.body))
	}
	return out
}

func decodeAlarm(t *testing.T, subject string, body []byte) alarm {
	t.Helper()
	e := event.New()
	if err := e.UnmarshalJSON(body); err != nil {
		t.Fatal(err)
	}
	if err := eventschema.ValidateData(events.Type(e.Type()), e.Data()); err != nil {
		t.Errorf("event %s breaks its schema: %v", e.ID(), err)
	}
	var d events.SLAData
	if err := cloudevent.DecodeData(e, &d); err != nil {
		t.Fatal(err)
	}
	level := sla.LevelAtRisk
	if events.Type(e.Type()) == events.SLABreached {
		level = sla.LevelBreached
	}
	if want := sla.EventID(testIDs, d.NotificationID, d.Step, level); e.ID() != want {
		t.Errorf("event id %s, want the derived %s", e.ID(), want)
	}
	if e.Source() != events.SourceEscalation || e.Subject() != d.NotificationID || cloudevent.IncidentID(e) != d.IncidentID {
		t.Errorf("event %s has source %q, subject %q, incident %q", e.ID(), e.Source(), e.Subject(), cloudevent.IncidentID(e))
	}
	return alarm{Type: events.Type(e.Type()), Subject: subject, NotificationID: d.NotificationID, Step: d.Step,
		RuleID: d.RuleID, DueAt: d.DueAt.UTC(), ObservedAt: d.ObservedAt.UTC(), ManagerContact: d.ManagerContact,
		PoliceContact: d.PoliceContact}
}

// stepState is a step as stored.
type stepState struct {
	Step  string
	DueAt time.Time
	State string
	Done  bool
}

func (b *bundle) steps(t *testing.T, notificationID string) []stepState {
	t.Helper()
	rows, err := b.pool.Query(t.Context(), `SELECT step, due_at, state, done_at IS NOT NULL FROM escalation.steps
		WHERE notification_id = $1 ORDER BY step`, notificationID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (stepState, error) {
		var s stepState
		err := r.Scan(&s.Step, &s.DueAt, &s.State, &s.Done)
		s.DueAt = s.DueAt.UTC()
		return s, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// notice describes one notification.requested.
type notice struct {
	ID          string
	IncidentID  string
	RuleID      string
	Recipient   events.Recipient
	RequestedAt time.Time
	DueAt       time.Time
	Flags       []string
	// TriageDueAt is R2's deadline the router puts on a MASH notice.
	TriageDueAt time.Time
	// ReceivedAt is when Lantern accepted the incident; zero leaves it out.
	ReceivedAt time.Time
	ForceCode  string
}

// newNotice is a notice with ids derived from name, so that each test's
// notices are distinct and readable.
func newNotice(name string, r events.Recipient, requestedAt, dueAt time.Time) notice {
	rule := "R8"
	if r.Kind == events.KindMASH {
		rule = "R1"
	}
	return notice{ID: cloudevent.DeriveID("notification", name), IncidentID: cloudevent.DeriveID("incident", name),
		RuleID: rule, Recipient: r, RequestedAt: requestedAt, DueAt: dueAt}
}

func (n notice) requested(t *testing.T) cloudevent.Event {
	t.Helper()
	profile, file, cal := "B", "notice-b.json", "school_day"
	if n.Recipient.Kind == events.KindMASH {
		profile, file, cal = "A", "notice-a.json", "clock"
	}
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return mustEvent(t, events.NotificationRequested, n.ID, n.IncidentID, n.RequestedAt, events.NotificationRequestedData{
		NotificationID: n.ID, IncidentID: n.IncidentID, RuleID: n.RuleID, PolicyVersion: "default-2026.1",
		Recipient: n.Recipient, ChildIDs: []string{"C-1"}, RequestedAt: n.RequestedAt, DueAt: n.DueAt,
		Calendar: cal, Profile: events.Profile(profile), LawfulBasis: "UK GDPR Art 6(1)(e) public task",
		Flags: slices.Clone(n.Flags), Notice: json.RawMessage(body), TriageDueAt: optionalTime(n.TriageDueAt),
		ReceivedAt: optionalTime(n.ReceivedAt), ForceCode: n.ForceCode,
	})
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (n notice) delivered(t *testing.T, at time.Time) cloudevent.Event {
	t.Helper()
	return mustEvent(t, events.NotificationDelivered, n.ID, n.IncidentID, at, events.NotificationDeliveredData{
		NotificationID: n.ID, IncidentID: n.IncidentID, Recipient: n.Recipient, DeliveredAt: at, Channel: "inbox", DueAt: n.DueAt})
}

func (n notice) acknowledged(t *testing.T, at time.Time) cloudevent.Event {
	t.Helper()
	return mustEvent(t, events.NotificationAcknowledged, n.ID, n.IncidentID, at, events.NotificationAcknowledgedData{
		NotificationID: n.ID, IncidentID: n.IncidentID, Recipient: n.Recipient, AcknowledgedAt: at,
		AcknowledgedBy: events.Person{UserID: "u-dsl-1", Role: "dsl"}})
}

func (n notice) triaged(t *testing.T, at time.Time) cloudevent.Event {
	t.Helper()
	return mustEvent(t, events.TriageDecided, n.ID, n.IncidentID, at, events.TriageDecidedData{
		IncidentID: n.IncidentID, NotificationID: n.ID, RAG: events.RAGAmber, DefaultRAG: events.RAGAmber,
		Decision: events.DecisionEarlyHelp, DecidedAt: at, DecidedBy: events.Person{UserID: "u-mash-1", Role: "mash_worker"}})
}

func mustEvent(t *testing.T, typ events.Type, subject, incidentID string, at time.Time, data any) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: cloudevent.DeriveID(subject, string(typ)), Type: typ,
		Source: "/lantern/test", Subject: subject, IncidentID: incidentID, Actor: "service:test", Time: at, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEscalationConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		b := setup(t, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC))
		return conformance.Consumer{Handler: b.esc.Handle, Subjects: sla.Subjects(),
			Digest: conformance.SchemaDigest(b.pool, sla.Schema), Batch: b.esc.Batch(0)}
	}, conformance.Simulated(t, 6, 12))
}

// testIDs is the escalation service's key in these tests, so that they see
// the keyed ids a deployment has.
var testIDs = cloudevent.KeyedIDs("escalation-test-event-id-key")

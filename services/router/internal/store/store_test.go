package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/router/internal/app"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
	"github.com/lantern-safeguarding/lantern/services/router/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The shipped sample reference data and policy.
const (
	sampleReference = "../../../../reference"
	shippedPolicy   = "../../../../policy/default.yaml"
	medway          = "E06000035"
	chathamHill     = "118234"
	chathamGP       = "G82001"
)

var migrate = pgtest.WithPool(func(ctx context.Context, pool *pgxpool.Pool) error { return store.New(pool, nil).Migrate(ctx) })

// bundle is a router handler on a database of its own.
type bundle struct {
	pool    *pgxpool.Pool
	store   *store.Store
	handler *routing.Handler
}

func setup(t *testing.T) bundle {
	t.Helper()
	_, pool := pgtest.NewPool(t, "router", migrate)
	pol, err := policy.Load(shippedPolicy)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := refdata.Load(sampleReference)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pool, sealedtest.New(t, pool))
	h := app.NewHandler(func() *policy.Policy { return pol }, func() *refdata.Set { return ref },
		st, routing.NewHasher("test-secret"), cloudevent.KeyedIDs("router-test-event-id-key"), zaptest.NewLogger(t))
	return bundle{pool: pool, store: st, handler: h}
}

// Sentinels that must never be stored by the router.
const (
	sCircumstances = "SENTINEL-CIRCUMSTANCES"
	sOtherAdult    = "SENTINEL-OTHER-ADULT"
	sOfficer       = "SENTINEL-OFFICER"
)

func incident(at time.Time, ref string) ppn.Incident {
	yes := 5
	return ppn.Incident{
		ForceCode: "KENT", PoliceReference: ref, OccurredAt: at, ReportedAt: at.Add(10 * time.Minute),
		LocalAuthorityCode: medway, DASH: ppn.DASH{Level: ppn.DASHMedium, YesCount: &yes},
		Adults: []ppn.Adult{
			{PersonID: "P-1", Role: ppn.RoleVictim, Name: "Jane Doe", DateOfBirth: "1994-03-02", GPODSCode: chathamGP},
			{PersonID: "P-2", Role: ppn.RolePerpetrator, Name: "John Roe", DateOfBirth: "1990-07-15"},
			{PersonID: "P-3", Role: ppn.RoleOther, Name: sOtherAdult},
		},
		Children: []ppn.Child{
			{PersonID: "C-1", Name: "Amy Doe", DateOfBirth: "2019-05-01", Present: true,
				Education: &ppn.Education{Type: ppn.EducationSchool, URN: chathamHill}, GPODSCode: chathamGP, NHSNumber: "9434765919"},
			{PersonID: "C-2", Name: "Ben Doe", DateOfBirth: "2018-02-01", Present: false,
				Education: &ppn.Education{Type: ppn.EducationSchool, URN: chathamHill}},
		},
		Circumstances: sCircumstances,
		Officer:       &ppn.Officer{ID: "KNT-1", Name: sOfficer},
	}
}

func incidentEvent(t *testing.T, id string, in ppn.Incident) cloudevent.Event {
	t.Helper()
	return newEvent(t, events.IncidentReported, cloudevent.DeriveID("reported", id), id, in.ReportedAt.Add(time.Minute),
		events.IncidentReportedData{IncidentID: id, ReceivedAt: in.ReportedAt.Add(time.Minute), Incident: in})
}

func triageEvent(t *testing.T, incidentID, rag string, at time.Time) cloudevent.Event {
	t.Helper()
	data := events.TriageDecidedData{IncidentID: incidentID, NotificationID: cloudevent.DeriveID(incidentID, "R1"), RAG: rag,
		DefaultRAG: rag, Decision: events.DecisionSection17, DecidedAt: at, DecidedBy: events.Person{UserID: "mash-worker-1"}}
	return newEvent(t, events.TriageDecided, cloudevent.DeriveID("triage", incidentID, rag), incidentID, at, data)
}

func newEvent(t *testing.T, typ events.Type, id, incidentID string, at time.Time, data any) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{ID: id, Type: typ, Source: events.SourceIntake, Subject: incidentID,
		IncidentID: incidentID, Time: at, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// requested returns the notification.requested events in the outbox,
// as "rule kind:recipient" sorted, with their data.
func requested(t *testing.T, pool *pgxpool.Pool) ([]string, []events.NotificationRequestedData) {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT subject, event FROM router.outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var keys []string
	var data []events.NotificationRequestedData
	for rows.Next() {
		var subject string
		var raw []byte
		if err := rows.Scan(&subject, &raw); err != nil {
			t.Fatal(err)
		}
		var e cloudevent.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		var n events.NotificationRequestedData
		if err := json.Unmarshal(e.Data(), &n); err != nil {
			t.Fatal(err)
		}
		if want := "sg.notification.requested." + string(n.Recipient.Kind); subject != want {
			t.Errorf("subject %s, want %s", subject, want)
		}
		keys = append(keys, n.RuleID+" "+string(n.Recipient.Kind)+":"+n.Recipient.ID)
		data = append(data, n)
	}
	slices.Sort(keys)
	return keys, data
}

func handle(t *testing.T, b bundle, e cloudevent.Event) {
	t.Helper()
	if err := b.handler.Handle(t.Context(), e); err != nil {
		t.Fatalf("Handle %s: %v", e.Type(), err)
	}
}

func TestIncidentThenTriageEachRecipientOnceAcrossRedeliveries(t *testing.T) {
	b := setup(t)
	const id = "5b0c7a52-3f0e-4c59-9a0e-1f7d7c9b2a10"
	in := incident(time.Date(2026, time.November, 20, 19, 0, 0, 0, calendar.London), "KNT-26-000101")

	handle(t, b, incidentEvent(t, id, in))
	handle(t, b, incidentEvent(t, id, in)) // redelivered
	got, _ := requested(t, b.pool)
	want := []string{"R1 mash:" + medway, "R8 school:" + chathamHill}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the incident (-want +got):\n%s", diff)
	}

	decided := in.ReportedAt.Add(3 * time.Hour)
	handle(t, b, triageEvent(t, id, "amber", decided))
	handle(t, b, triageEvent(t, id, "amber", decided)) // redelivered
	handle(t, b, triageEvent(t, id, "red", decided))   // re-rated: same recipients
	got, data := requested(t, b.pool)
	want = []string{"R1 mash:" + medway, "R12 school_nursing:" + medway, "R14 gp:" + chathamGP, "R8 school:" + chathamHill}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after triage (-want +got):\n%s", diff)
	}
	for _, n := range data {
		if n.Recipient.Kind == events.KindSchool {
			if diff := cmp.Diff([]string{"C-1", "C-2"}, n.ChildIDs); diff != "" {
				t.Errorf("the school's one notice names (-want +got):\n%s", diff)
			}
		}
	}
	var sendBy time.Time
	if err := b.pool.QueryRow(t.Context(), `SELECT send_by FROM router.notifications WHERE rule_id = 'R8'`).Scan(&sendBy); err != nil {
		t.Fatal(err)
	}
	if want := in.OccurredAt.Add(24 * time.Hour); !sendBy.Equal(want) {
		t.Errorf("stored send_by %s, want %s", sendBy, want)
	}
}

func TestTriageBeforeItsIncidentIsRetried(t *testing.T) {
	b := setup(t)
	err := b.handler.Handle(t.Context(), triageEvent(t, "7e0c7a52-3f0e-4c59-9a0e-1f7d7c9b2a10", "red", time.Now()))
	if err == nil || !strings.Contains(err.Error(), "before the incident was routed") {
		t.Fatalf("Handle = %v, want a retryable error", err)
	}
}

func TestThirdIncidentOfTheSameChildAndCoupleIsARepeat(t *testing.T) {
	b := setup(t)
	first := time.Date(2026, time.March, 2, 21, 0, 0, 0, calendar.London)
	ids := []string{"a1000000-0000-4000-8000-000000000001", "a1000000-0000-4000-8000-000000000002", "a1000000-0000-4000-8000-000000000003"}
	for i, id := range ids {
		in := incident(first.AddDate(0, 4*i, 0), "KNT-26-00020"+string(rune('1'+i)))
		if i == 2 {
			// Written differently, and with no NHS number: still the same
			// child and the same couple.
			in.Children[0].Name, in.Children[0].NHSNumber = "  AMY  doe ", ""
			in.Adults[0].Name = "jane DOE"
		}
		handle(t, b, incidentEvent(t, id, in))
	}
	_, data := requested(t, b.pool)
	var third events.NotificationRequestedData
	for _, n := range data {
		if n.IncidentID == ids[2] && n.Recipient.Kind == events.KindMASH {
			third = n
		}
	}
	for _, flag := range []string{"escalation", "repeat_child", "repeat_same_parties", "cumulative_harm", "marac_criteria_met"} {
		if !slices.Contains(third.Flags, flag) {
			t.Errorf("third MASH notice flags %v lack %s", third.Flags, flag)
		}
	}
	if !third.Repeat {
		t.Error("the third MASH notice is not marked repeat")
	}
}

func TestRouterKeepsNoNamesInItsKeysAndNoNarrativeInItsCases(t *testing.T) {
	b := setup(t)
	const id = "b2000000-0000-4000-8000-000000000001"
	handle(t, b, incidentEvent(t, id, incident(time.Date(2026, time.November, 18, 14, 0, 0, 0, calendar.London), "KNT-26-000301")))

	var keys string
	if err := b.pool.QueryRow(t.Context(), `SELECT string_agg(key_kind || ' ' || key_hash, ' ') FROM router.identity_keys`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	for _, personal := range []string{"Amy", "amy", "Jane", "jane", "9434765919", "2019-05-01"} {
		if strings.Contains(keys, personal) {
			t.Errorf("identity keys hold %q: %s", personal, keys)
		}
	}
	var kept string
	if err := b.pool.QueryRow(t.Context(), `SELECT incident::text FROM router.cases WHERE incident_id = $1`, id).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	for _, forbidden := range []string{sCircumstances, sOtherAdult, sOfficer, "yes_count", "1990-07-15"} {
		if strings.Contains(kept, forbidden) {
			t.Errorf("the kept case holds %q: %s", forbidden, kept)
		}
	}
}

// Three incidents of one family routed at the same moment, as by three
// routers sharing the consumer: whichever is recorded last must count the
// other two, so exactly the last carries the cumulative-harm flags.
func TestAFamilysIncidentsRoutedAtOnceStillSeeEachOther(t *testing.T) {
	for round := range 5 {
		b := setup(t)
		first := time.Date(2026, time.March, 2, 21, 0, 0, 0, calendar.London)
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for i := range 3 {
			id := fmt.Sprintf("b%d000000-0000-4000-8000-00000000000%d", round, i+1)
			e := incidentEvent(t, id, incident(first.AddDate(0, i, 0), fmt.Sprintf("KNT-26-1%d%03d", round, i)))
			wg.Go(func() { errs <- b.handler.Handle(t.Context(), e) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		_, data := requested(t, b.pool)
		flagged := 0
		for _, n := range data {
			if n.Recipient.Kind == events.KindMASH && slices.Contains(n.Flags, "cumulative_harm") {
				flagged++
			}
		}
		if flagged != 1 {
			t.Fatalf("round %d: %d MASH notices flag cumulative harm, want exactly 1 (the incident recorded last)", round, flagged)
		}
	}
}

// TestRequestsAreTimedWhenRoutingHappened: a notification.requested's time
// is when the router decided it, not the incident's receipt, so the ledger
// shows how long routing took; its deadlines still come from the incident,
// and a redelivery later stores nothing new, so the stored events replay
// as they were.
func TestRequestsAreTimedWhenRoutingHappened(t *testing.T) {
	b := setup(t)
	const id = "6c0c7a52-3f0e-4c59-9a0e-1f7d7c9b2a10"
	in := incident(time.Date(2026, time.November, 20, 19, 0, 0, 0, calendar.London), "KNT-26-000202")
	reported := incidentEvent(t, id, in)
	routed := reported.Time().Add(7*time.Minute + 250*time.Millisecond)
	fake := clock.NewFake(routed)
	b.handler.Clock = fake
	handle(t, b, reported)
	first := outboxTimes(t, b.pool)
	fake.Advance(3 * time.Hour)
	handle(t, b, reported) // redelivered hours later
	if diff := cmp.Diff(first, outboxTimes(t, b.pool)); diff != "" {
		t.Errorf("a redelivery changed the stored requests (-first +now):\n%s", diff)
	}
	_, data := requested(t, b.pool)
	if len(first) != 2 || len(data) != 2 {
		t.Fatalf("%d events, %d requests; want 2", len(first), len(data))
	}
	for i, n := range data {
		if !first[i].Equal(routed) || !n.RequestedAt.Equal(routed) {
			t.Errorf("%s %s: event time %s, requested_at %s; want both %s", n.RuleID, n.Recipient.Kind, first[i], n.RequestedAt, routed)
		}
		if n.ReceivedAt == nil || !n.ReceivedAt.Equal(reported.Time()) || n.ForceCode != "KENT" {
			t.Errorf("%s: received_at %v, force_code %q; want the intake's receipt %s and KENT", n.RuleID, n.ReceivedAt, n.ForceCode, reported.Time())
		}
	}
	if mash := data[0]; mash.RuleID != "R1" || !mash.DueAt.Equal(in.OccurredAt.Add(24*time.Hour)) {
		t.Errorf("R1 due %s (%s); want 24 h after the incident, whenever it was routed", mash.DueAt, mash.RuleID)
	}
}

// outboxTimes are the CloudEvents times of the router's outbox, in order.
func outboxTimes(t *testing.T, pool *pgxpool.Pool) []time.Time {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT event FROM router.outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Time
	for _, raw := range raws {
		var e cloudevent.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Time())
	}
	return out
}

func TestRouterConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		b := setup(t)
		return conformance.Consumer{Handler: b.handler.Handle, Subjects: b.handler.Mux().Subjects(),
			Digest: conformance.SchemaDigest(b.pool, store.Schema), Batch: b.store.Batch(0)}
	}, conformance.Simulated(t, 6, 13))
}

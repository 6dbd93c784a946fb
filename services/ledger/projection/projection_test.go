package projection_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC)

func factsOf(t *testing.T, pubs []pt.Published) []projection.Fact {
	t.Helper()
	var out []projection.Fact
	for _, p := range pubs {
		f, ok, err := projection.FactOf(p.Event)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}

func ptr(t time.Time) *time.Time { return &t }

// TestProjectOneIncident checks every projection of a small incident
// worked out by hand: a MASH notice delivered on time and triaged with an
// override, and a school notice delivered at once but acknowledged after
// its deadline.
func TestProjectOneIncident(t *testing.T) {
	id, mash, school := pt.IncidentID(1), pt.NotificationID(1, 1), pt.NotificationID(1, 2)
	due := t0.Add(10 * time.Hour)
	in := pt.NewIncident(t, id).Reported(t0, "medium", true, pt.Child{ID: "C-1", Present: true, Voice: true}, pt.Child{ID: "C-2"}).
		Requested(pt.Request{NotificationID: mash, RuleID: "R1", Kind: events.KindMASH, RecipientID: "E06000035",
			RecipientName: "Medway MASH", ChildIDs: []string{"C-1", "C-2"}, At: t0.Add(time.Second), Due: t0.Add(24 * time.Hour)}).
		Requested(pt.Request{NotificationID: school, RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
			RecipientName: "Example Primary", ChildIDs: []string{"C-1"}, At: t0.Add(2 * time.Second), Due: due}).
		Delivered(mash, t0.Add(3*time.Second)).
		Delivered(school, t0.Add(4*time.Second)).
		Triaged(mash, events.RAGRed, events.RAGAmber, "sibling on a plan", "mash-1", t0.Add(time.Hour)).
		Acknowledged(school, "dsl-1", due.Add(15*time.Minute))
	got := projection.Project(factsOf(t, in.Events()))

	wantNotes := []projection.Notification{
		{NotificationID: mash, IncidentID: id, RuleID: "R1", PolicyVersion: "test-1", RecipientKind: "mash",
			RecipientID: "E06000035", RecipientName: "Medway MASH", ChildIDs: []string{"C-1", "C-2"}, Calendar: "clock",
			Profile: "A", RequestedAt: ptr(t0.Add(time.Second)), DueAt: ptr(t0.Add(24 * time.Hour)), WatchedStep: "delivery",
			DeliveredAt: ptr(t0.Add(3 * time.Second)), State: "delivered", Outcome: "met"},
		{NotificationID: school, IncidentID: id, RuleID: "R8", PolicyVersion: "test-1", RecipientKind: "school",
			RecipientID: "118234", RecipientName: "Example Primary", ChildIDs: []string{"C-1"}, Calendar: "clock",
			Profile: "A", RequestedAt: ptr(t0.Add(2 * time.Second)), DueAt: ptr(due), WatchedStep: "acknowledgement",
			DeliveredAt: ptr(t0.Add(4 * time.Second)), AcknowledgedAt: ptr(due.Add(15 * time.Minute)),
			AcknowledgedBy: "dsl-1", State: "acknowledged", Outcome: "late"},
	}
	if diff := cmp.Diff(wantNotes, got.Notifications); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	wantIncident := []projection.Incident{{IncidentID: id, ReceivedAt: t0, OccurredAt: t0.Add(-30 * time.Minute),
		ForceCode: "KENT", LocalAuthority: "E06000035", DASHLevel: "medium", ChildIDs: []string{"C-1", "C-2"},
		ChildrenPresent: 1, ChildrenWithVoice: 1, UnbornVictim: true}}
	if diff := cmp.Diff(wantIncident, got.Incidents); diff != "" {
		t.Errorf("incidents (-want +got):\n%s", diff)
	}
	wantTriage := []projection.Triage{{EventID: got.Triage[0].EventID, IncidentID: id, NotificationID: mash,
		RAG: "red", DefaultRAG: "amber", Decision: events.DecisionSection17, Overridden: true, ReasonGiven: true,
		DecidedAt: t0.Add(time.Hour), DecidedBy: "mash-1"}}
	if diff := cmp.Diff(wantTriage, got.Triage); diff != "" {
		t.Errorf("triage (-want +got):\n%s", diff)
	}
	if len(got.Inbox) != 2 || len(got.Steps) != 7 || len(got.Breaches) != 0 {
		t.Errorf("got %d inbox items, %d steps, %d breaches; want 2, 7, 0", len(got.Inbox), len(got.Steps), len(got.Breaches))
	}
}

// TestTimelineShowsTheChannelsThatCarriedADelivery: a school notice told
// by e-mail before its deadline and by webhook after it, whose delivered
// step and notification both list the two, each marked on time or not.
func TestTimelineShowsTheChannelsThatCarriedADelivery(t *testing.T) {
	id, school := pt.IncidentID(1), pt.NotificationID(1, 2)
	due := t0.Add(8 * time.Hour)
	email := events.ChannelReceipt{Channel: "email", AcceptedAt: t0.Add(7*time.Hour + 51*time.Minute), ProviderID: "<" + school + "@lantern.test>"}
	hook := events.ChannelReceipt{Channel: "webhook", AcceptedAt: due.Add(time.Minute), ProviderID: school}
	in := pt.NewIncident(t, id).Reported(t0, "medium", false, pt.Child{ID: "C-1"}).
		Requested(pt.Request{NotificationID: school, RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
			RecipientName: "Example Primary", ChildIDs: []string{"C-1"}, At: t0.Add(time.Second), Due: due}).
		DeliveredBy(school, due.Add(time.Minute), email, hook)
	set := projection.Project(factsOf(t, in.Events()))
	wantRows := []projection.Channel{
		{IncidentID: id, NotificationID: school, Channel: "email", AcceptedAt: email.AcceptedAt, ProviderID: email.ProviderID},
		{IncidentID: id, NotificationID: school, Channel: "webhook", AcceptedAt: hook.AcceptedAt, ProviderID: hook.ProviderID},
	}
	if diff := cmp.Diff(wantRows, set.Channels); diff != "" {
		t.Errorf("channel rows (-want +got):\n%s", diff)
	}
	tl := projection.BuildTimeline(id, set, nil)
	want := []projection.ChannelMark{
		{Channel: "email", AcceptedAt: email.AcceptedAt, ProviderID: email.ProviderID, OnTime: true},
		{Channel: "webhook", AcceptedAt: hook.AcceptedAt, ProviderID: hook.ProviderID, OnTime: false},
	}
	var delivered []projection.ChannelMark
	for _, st := range tl.Steps {
		if st.Type == string(events.NotificationDelivered) {
			delivered = st.Channels
		} else if len(st.Channels) != 0 {
			t.Errorf("step %s lists channels", st.Type)
		}
	}
	if diff := cmp.Diff(want, delivered); diff != "" {
		t.Errorf("delivered step's channels (-want +got):\n%s", diff)
	}
	if len(tl.Children) != 1 || len(tl.Children[0].Notifications) != 1 {
		t.Fatalf("timeline children = %+v", tl.Children)
	}
	if diff := cmp.Diff(want, tl.Children[0].Notifications[0].Channels); diff != "" {
		t.Errorf("notification's channels (-want +got):\n%s", diff)
	}
}

// TestProjectIgnoresOrderAndRepeats shuffles and repeats the events of many
// incidents, as a stream read after redeliveries might, and checks the
// projection is unchanged.
func TestProjectIgnoresOrderAndRepeats(t *testing.T) {
	facts := factsOf(t, pt.All(pt.Simulate(t, 30, t0, 1)))
	want := projection.DigestOf(projection.Project(facts))
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 5 {
		shuffled := append(append([]projection.Fact{}, facts...), facts[:len(facts)/3]...)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if got := projection.DigestOf(projection.Project(shuffled)); got.Total != want.Total {
			t.Fatalf("shuffle %d: digest %s, want %s (tables differ: %v)", i, got.Total, want.Total, got.Differences(want))
		}
	}
}

// TestStoredProjectionsReadBackUnchanged writes a projection and reads it
// back: every field survives, and the database digest equals the one
// computed in memory.
func TestStoredProjectionsReadBackUnchanged(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	ctx := context.Background()
	want := projection.Project(factsOf(t, pt.All(pt.Simulate(t, 12, t0, 2))))
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if err := projection.Write(ctx, conn.Conn(), want); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := projection.Load(ctx, pool)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}
	dbDigest, err := projection.DigestDatabase(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(projection.DigestOf(want), dbDigest); diff != "" {
		t.Errorf("digest (-memory +database):\n%s", diff)
	}
}

// TestLiveProjectionEqualsRebuild records events one at a time through
// the ledger's write path, then checks the tables it kept equal a
// projection of all the events at once.
func TestLiveProjectionEqualsRebuild(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	pubs := pt.All(pt.Simulate(t, 10, t0, 3))
	pt.Record(t, pool, pubs...)
	pt.Record(t, pool, pubs[:5]...) // redelivered: changes nothing
	live, err := projection.DigestDatabase(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	want := projection.DigestOf(projection.Project(factsOf(t, pubs)))
	if diff := cmp.Diff(want, live); diff != "" {
		t.Errorf("live digest (-rebuilt +live):\n%s", diff)
	}
}

// TestCatchUpProjectsWhatWasAppendedWithoutIt covers a ledger upgraded to
// keep projections, or restored from an older copy: at start the tables
// are brought level with the ledger.
func TestCatchUpProjectsWhatWasAppendedWithoutIt(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	ctx := context.Background()
	pubs := pt.All(pt.Simulate(t, 6, t0, 4))
	pt.Record(t, pool, pubs...)
	want, err := projection.DigestDatabase(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM audit.steps; DELETE FROM audit.notifications; UPDATE audit.projected SET seq = 3`); err != nil {
		t.Fatal(err)
	}
	n, err := projection.CatchUp(ctx, pool)
	if err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
	if n == 0 {
		t.Error("CatchUp refreshed no incident")
	}
	got, err := projection.DigestDatabase(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after catch-up (-before +after):\n%s", diff)
	}
}

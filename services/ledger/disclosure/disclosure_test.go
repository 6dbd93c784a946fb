package disclosure_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/disclosure"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/ledgertest"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)

const (
	named = "9434765919"
	other = "4010232137"
	never = "7382946150"
)

// incident is one reported incident with a MASH notice and a school
// notice for its child, the school's acknowledged.
func incident(t *testing.T, n int, la, nhs string) *pt.Incident {
	id := pt.IncidentID(n)
	mash, school := pt.NotificationID(n, 1), pt.NotificationID(n, 2)
	at := t0.Add(time.Duration(n) * time.Hour)
	return pt.NewIncident(t, id).In(la).
		Reported(at, "high", false, pt.Child{ID: "C-1", NHSNumber: nhs}).
		Requested(pt.Request{NotificationID: mash, RuleID: "R1", Kind: events.KindMASH, RecipientID: la,
			RecipientName: "MASH " + la, ChildIDs: []string{"C-1"}, At: at.Add(time.Second), Due: at.Add(time.Hour)}).
		Requested(pt.Request{NotificationID: school, RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
			RecipientName: "Example Primary", ChildIDs: []string{"C-1"}, At: at.Add(2 * time.Second), Due: at.Add(10 * time.Hour)}).
		Delivered(school, at.Add(3*time.Second)).
		Acknowledged(school, "dsl-118234", at.Add(time.Hour))
}

// TestDisclosuresListExactlyTheNoticesThatNamedThePerson: three incidents
// in two local authorities name one child by NHS number, a fourth names
// another; the log lists the six notices of the three, with recipient,
// rule, profile, lawful basis and who opened them, and nothing for a
// person never named.
func TestDisclosuresListExactlyTheNoticesThatNamedThePerson(t *testing.T) {
	_, pool := pt.NewDatabase(t)
	ctx := context.Background()
	sealer := sealedtest.New(t, pool)
	l := ledgertest.New(t, pool, sealer, clock.NewFake(t0))
	incidents := []*pt.Incident{incident(t, 1, "E06000035", named), incident(t, 2, "E10000016", named),
		incident(t, 3, "E06000035", named), incident(t, 4, "E10000016", other)}
	ledgertest.HandleAll(t, l, pt.All(incidents))
	got, err := disclosure.Find(ctx, pool, sealer, disclosure.Query{NHSNumber: named})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct{ Incident, Notification, LA, Recipient, Rule, AckBy string }
	var list []seen
	for _, d := range got {
		list = append(list, seen{d.IncidentID, d.NotificationID, d.LocalAuthority, d.RecipientKind + "/" + d.RecipientID, d.RuleID, d.AcknowledgedBy})
		if d.LawfulBasis == "" || d.Profile == "" || d.RequestedAt.IsZero() {
			t.Errorf("disclosure %s lacks its lawful basis, profile or time: %+v", d.NotificationID, d)
		}
	}
	var want []seen
	for n, la := range []string{"", "E06000035", "E10000016", "E06000035"} {
		if n == 0 {
			continue
		}
		want = append(want,
			seen{pt.IncidentID(n), pt.NotificationID(n, 1), la, "mash/" + la, "R1", ""},
			seen{pt.IncidentID(n), pt.NotificationID(n, 2), la, "school/118234", "R8", "dsl-118234"})
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("disclosures of %s (-want +got):\n%s", named, diff)
	}
	if none, err := disclosure.Find(ctx, pool, sealer, disclosure.Query{NHSNumber: never}); err != nil || len(none) != 0 {
		t.Errorf("disclosures of a person never named = %v, %v; want none", none, err)
	}
	byPolice, err := disclosure.Find(ctx, pool, sealer, disclosure.Query{PolicePersonID: "C-1", ForceCode: "KENT"})
	if err != nil || len(byPolice) != 8 {
		t.Errorf("disclosures of KENT's C-1 = %d, %v; want the 8 notices of all four incidents", len(byPolice), err)
	}
	if _, err := disclosure.Find(ctx, pool, sealer, disclosure.Query{}); err == nil {
		t.Error("a search naming nobody was answered")
	}
}

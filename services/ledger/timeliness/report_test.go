package timeliness_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

// The fixture: times chosen so that every figure below can be worked out
// by hand. All of November is GMT, so London time equals UTC.
var (
	nov   = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	asOf  = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	late  = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // due after asOf
	from  = calendar.Date{Year: 2026, Month: 11, Day: 1}
	to    = calendar.Date{Year: 2026, Month: 12, Day: 31}
	hours = func(n float64) time.Duration { return time.Duration(n * float64(time.Hour)) }
)

func f(v float64) *float64 { return &v }

// fixture builds, in incident 1: four MASH notices (R1) delivered after
// 10, 20, 30 and 40 seconds, three triaged 2, 4 and 6 hours after receipt
// and the fourth breached; six school notices (R8) due ten hours after the
// request, acknowledged after 1, 2 and 3 hours (on time), 11 hours (late),
// never (breach recorded), and one not yet due; and two probation notices
// (R15), one delivered an hour late and one failed. Incident 2 has a
// health visiting notice in December and incident 3 a notice in October,
// outside the range.
func fixture(t *testing.T) projection.Set {
	in := pt.NewIncident(t, pt.IncidentID(1)).Reported(nov.Add(-time.Minute), "high", true,
		pt.Child{ID: "C-1", Present: true, Voice: true}, pt.Child{ID: "C-2"})
	for i, secs := range []int{10, 20, 30, 40} {
		id := pt.NotificationID(1, 10+i)
		at := nov.Add(time.Duration(i) * time.Hour)
		in.Requested(pt.Request{NotificationID: id, RuleID: "R1", Kind: events.KindMASH, RecipientID: "E06000035",
			RecipientName: "Medway MASH", ChildIDs: []string{"C-1"}, At: at, Due: at.Add(time.Hour)})
		received := at.Add(time.Duration(secs) * time.Second)
		in.Delivered(id, received)
		if i < 3 {
			in.Triaged(id, events.RAGRed, events.RAGRed, "", "mash-1", received.Add(hours(2*float64(i+1))))
		} else {
			in.Breached(id, events.StepTriage, received.Add(4*time.Hour))
		}
	}
	acks := []float64{1, 2, 3, 11, 0, 0}
	for i, ack := range acks {
		id := pt.NotificationID(1, 20+i)
		at := nov.Add(time.Duration(24*(i+1)) * time.Hour)
		if i == 5 {
			at = late
		}
		in.Requested(pt.Request{NotificationID: id, RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
			RecipientName: "Example Primary", ChildIDs: []string{"C-1"}, At: at, Due: at.Add(10 * time.Hour)})
		// Each school notice is told by e-mail as it is delivered, the
		// first by the school's webhook too.
		delivered := at.Add(time.Duration(i+1) * time.Minute)
		carried := []events.ChannelReceipt{{Channel: "email", AcceptedAt: delivered, ProviderID: "<" + id + "@lantern.test>"}}
		if i == 0 {
			carried = append(carried, events.ChannelReceipt{Channel: "webhook", AcceptedAt: delivered.Add(-time.Second), ProviderID: id})
		}
		in.DeliveredBy(id, delivered, carried...)
		switch {
		case ack > 0:
			in.Acknowledged(id, "dsl-1", at.Add(hours(ack)))
		case i == 4:
			in.Breached(id, events.StepAcknowledgement, at.Add(10*time.Hour+time.Minute))
		}
	}
	p1, p2 := pt.NotificationID(1, 30), pt.NotificationID(1, 31)
	pAt := nov.Add(240 * time.Hour)
	in.Requested(pt.Request{NotificationID: p1, RuleID: "R15", Kind: events.KindProbation, RecipientID: "KSS",
		RecipientName: "Kent probation", At: pAt, Due: pAt.Add(4 * time.Hour)}).
		DeliveredBy(p1, pAt.Add(5*time.Hour), events.ChannelReceipt{Channel: "email", AcceptedAt: pAt.Add(5 * time.Hour), ProviderID: "<" + p1 + "@lantern.test>"})
	in.Requested(pt.Request{NotificationID: p2, RuleID: "R15", Kind: events.KindProbation, RecipientID: "KSS",
		RecipientName: "Kent probation", At: pAt.Add(time.Minute), Due: pAt.Add(4 * time.Hour)}).
		Failed(p2, "endpoint refused", pAt.Add(2*time.Hour)).Breached(p2, events.StepDelivery, pAt.Add(4*time.Hour+time.Minute))

	dec := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	in2 := pt.NewIncident(t, pt.IncidentID(2)).Reported(dec, "standard", false).
		Requested(pt.Request{NotificationID: pt.NotificationID(2, 1), RuleID: "R11", Kind: events.KindHealthVisiting,
			RecipientID: "HV-1", RecipientName: "Medway health visiting", At: dec, Due: dec.Add(24 * time.Hour)}).
		Delivered(pt.NotificationID(2, 1), dec.Add(30*time.Minute))
	oct := time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC)
	in3 := pt.NewIncident(t, pt.IncidentID(3)).Reported(oct, "standard", false).
		Requested(pt.Request{NotificationID: pt.NotificationID(3, 1), RuleID: "R1", Kind: events.KindMASH,
			RecipientID: "E06000035", At: oct, Due: oct.Add(time.Hour)})
	var facts []projection.Fact
	for _, p := range pt.All([]*pt.Incident{in, in2, in3}) {
		fact, ok, err := projection.FactOf(p.Event)
		if err != nil || !ok {
			t.Fatalf("fact of %s: %v", p.Event.Type(), err)
		}
		facts = append(facts, fact)
	}
	return projection.Project(facts)
}

func report(t *testing.T) timeliness.Report {
	return timeliness.Compute(fixture(t), timeliness.Options{From: from, To: to, AsOf: asOf})
}

func stats(n int, median, p90 float64) timeliness.Stats {
	return timeliness.Stats{N: n, Median: &median, P90: &p90}
}

var approx = cmp.Options{cmpopts.EquateApprox(0, 1e-9), cmpopts.IgnoreUnexported(timeliness.Row{})}

func TestChannelFiguresMatchTheHandWorkedFixture(t *testing.T) {
	// Delivered notices in range: four MASH, six school, one probation
	// (late) and one health visiting; the school's are told by e-mail as
	// they are delivered (after 1 to 6 minutes), the late probation
	// notice's e-mail 5 hours after the request, and the first school
	// notice by webhook after 59 seconds.
	want := []timeliness.ChannelTotal{
		{Channel: "inbox", Notices: 12, OnTime: 11, ShareOnTime: f(11.0 / 12)},
		{Channel: "email", Notices: 7, OnTime: 6, ShareOnTime: f(6.0 / 7), ToAccept: stats(7, 240, 7416)},
		{Channel: "webhook", Notices: 1, OnTime: 1, ShareOnTime: f(1), ToAccept: stats(1, 59, 59)},
	}
	got := report(t).Channels
	if diff := cmp.Diff(want, got, approx, cmpopts.IgnoreUnexported(timeliness.ChannelTotal{}),
		cmpopts.IgnoreFields(timeliness.ChannelTotal{}, "ToAccept")); diff != "" {
		t.Errorf("channels (-want +got):\n%s", diff)
	}
	for i := 1; i < len(want) && i < len(got); i++ {
		if diff := cmp.Diff(want[i].ToAccept, got[i].ToAccept, approx); diff != "" {
			t.Errorf("%s time to accept (-want +got):\n%s", want[i].Channel, diff)
		}
	}
}

func TestReportFiguresMatchTheHandWorkedFixture(t *testing.T) {
	rep := report(t)
	var got []timeliness.Row
	for _, th := range rep.Themes {
		got = append(got, th.Rows...)
	}
	want := []timeliness.Row{
		{Theme: 1, RuleID: "R8", RecipientKind: "school", Month: "2026-11", Step: "acknowledgement", Count: 6,
			OnTime: 3, Late: 1, Overdue: 1, Pending: 1, ShareOnTime: f(0.6),
			ToDeliver: stats(6, 210, 330), ToAcknowledge: stats(4, 9000, 30960)},
		{Theme: 1, RuleID: "R11", RecipientKind: "health_visiting", Month: "2026-12", Step: "delivery", Count: 1,
			OnTime: 1, ShareOnTime: f(1), ToDeliver: stats(1, 1800, 1800)},
		{Theme: 3, RuleID: "R1", RecipientKind: "mash", Month: "2026-11", Step: "delivery", Count: 4, OnTime: 4,
			ShareOnTime: f(1), ToDeliver: stats(4, 25, 37)},
		{Theme: 3, RuleID: "R2", RecipientKind: "mash", Month: "2026-11", Step: "triage", Count: 4, OnTime: 3,
			Overdue: 1, ShareOnTime: f(0.75), ToDecide: stats(3, 14400, 20160)},
		{Theme: 4, RuleID: "R15", RecipientKind: "probation", Month: "2026-11", Step: "delivery", Count: 2, Late: 1,
			Failed: 1, ShareOnTime: f(0), ToDeliver: stats(1, 18000, 18000)},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	wantTotals := timeliness.Totals{Incidents: 2, Notifications: 13, OnTime: 8, Decided: 12, ShareOnTime: f(8.0 / 12), Breaches: 5}
	if diff := cmp.Diff(wantTotals, rep.Totals, approx); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

func TestReportListsEveryBreachWithItsReason(t *testing.T) {
	type line struct {
		Notification, Step string
		Recorded           bool
		Reason             string
	}
	var got []line
	for _, th := range report(t).Themes {
		for _, b := range th.Breaches {
			if b.IncidentID != pt.IncidentID(1) {
				t.Errorf("breach of %s names incident %s", b.NotificationID, b.IncidentID)
			}
			got = append(got, line{b.NotificationID, b.Step, b.Recorded, b.Reason})
		}
	}
	want := []line{
		{pt.NotificationID(1, 23), "acknowledgement", false, "acknowledged 2026-11-06 20:00 GMT, 1h 00m after the deadline"},
		{pt.NotificationID(1, 24), "acknowledgement", true, "not acknowledged by the deadline; still not acknowledged at 2026-11-30 12:00 GMT"},
		{pt.NotificationID(1, 13), "triage", true, "no triage decision by the deadline (breach recorded 2026-11-02 16:00 GMT)"},
		{pt.NotificationID(1, 30), "delivery", false, "delivered 2026-11-12 14:00 GMT, 1h 00m after the deadline"},
		{pt.NotificationID(1, 31), "delivery", true, "delivery failed 2026-11-12 11:00 GMT: endpoint refused"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("breaches by theme, then deadline (-want +got):\n%s", diff)
	}
}

func TestReportIndicators(t *testing.T) {
	rep := report(t)
	got := map[string]int{}
	for _, th := range rep.Themes {
		for _, in := range th.Indicators {
			got[in.Label] = in.Count
		}
	}
	want := map[string]int{
		"Children named on the notices":                                      2,
		"Children whose voice was recorded by the police":                    1,
		"Incidents with a pregnant victim (an unborn child)":                 1,
		"Incidents assessed as high risk (DASH)":                             1,
		"MASH triage decisions":                                              3,
		"Probation notices (R15)":                                            2,
		"Notices on time, of those whose outcome is known":                   8,
		"Deadlines breached":                                                 5,
		"Maternity notices (R13) for incidents with a pregnant victim":       0,
		"Incidents with three or more between the same parties in 12 months": 0,
	}
	for label, n := range want {
		if got[label] != n {
			t.Errorf("%s = %d, want %d", label, got[label], n)
		}
	}
}

func TestDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45s"}, {12 * time.Minute, "12m"}, {2*time.Hour + 5*time.Minute, "2h 05m"},
		{76 * time.Hour, "3d 04h"}, {-90 * time.Second, "-1m"},
	}
	for _, tc := range cases {
		if got := timeliness.Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

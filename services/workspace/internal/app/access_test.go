package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"maps"
)

// accessData returns the data of every access event in the outbox.
func (b *bundle) accessData() []map[string]any {
	var out []map[string]any
	for _, e := range b.outboxEvents(events.AccessRecorded) {
		out = append(out, e["data"].(map[string]any))
	}
	return out
}

// recordsOneAccess runs do and checks that it recorded exactly one access
// event, with an id and a time, and otherwise base with want over it.
func (b *bundle) recordsOneAccess(t *testing.T, do func() response, base, want map[string]any) response {
	t.Helper()
	before := len(b.accessData())
	r := do()
	after := b.accessData()
	if len(after) != before+1 {
		t.Fatalf("%d access events recorded, want 1", len(after)-before)
	}
	got := after[before]
	for _, k := range []string{"access_id", "at"} {
		if got[k] == "" || got[k] == nil {
			t.Errorf("%s is empty", k)
		}
		delete(got, k)
	}
	all := maps.Clone(base)
	maps.Copy(all, want)
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("access event (-want +got):\n%s", diff)
	}
	return r
}

func TestEveryReadAndRefusalIsRecorded(t *testing.T) {
	b := setup(t)
	med, kt := medway(), kent()
	all := b.deliverAll(med, kt)
	own := all[med.la][events.KindSchool]
	other := all[kt.la][events.KindSchool]
	token := b.token("key-adult.118234")
	br := b.signIn("key-adult.118234")

	cases := []struct {
		name string
		do   func() response
		want map[string]any
	}{
		{"a notice read through the API", func() response {
			return b.api(token, http.MethodGet, "/v1/workspace/notices/"+own.NotificationID, "")
		}, map[string]any{"incident_id": med.incidentID, "notification_id": own.NotificationID, "resource": "notice",
			"purpose": "read_notice", "outcome": "allowed", "via": "api"}},
		{"the printable record on a page", func() response { return br.get("/notices/" + own.NotificationID + "/record") },
			map[string]any{"incident_id": med.incidentID, "notification_id": own.NotificationID, "resource": "safeguarding_record",
				"purpose": "safeguarding_file", "outcome": "allowed", "via": "page"}},
		{"another school's notice", func() response { return br.get("/notices/" + other.NotificationID) },
			map[string]any{"incident_id": kt.incidentID, "notification_id": other.NotificationID, "resource": "notice",
				"purpose": "read_notice", "outcome": "refused", "refusal": "organisation", "via": "page"}},
		{"a notice that does not exist", func() response {
			return b.api(token, http.MethodGet, "/v1/workspace/notices/"+cloudevent.DeriveID("nothing"), "")
		}, map[string]any{"incident_id": events.NilIncidentID, "notification_id": cloudevent.DeriveID("nothing"),
			"resource": "notice", "purpose": "read_notice", "outcome": "refused", "refusal": "not_found", "via": "api"}},
		{"the MASH queue", func() response { return b.api(token, http.MethodGet, "/v1/workspace/mash/queue", "") },
			map[string]any{"incident_id": events.NilIncidentID, "resource": "endpoint", "purpose": "triage_queue",
				"outcome": "refused", "refusal": "role", "via": "api"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b.recordsOneAccess(t, tc.do, map[string]any{"user_id": "dev:key-adult.118234", "role": "school_key_adult",
				"organisation": "school:118234"}, tc.want)
		})
	}
}

func TestInboxRecordsEveryNoticeShown(t *testing.T) {
	b := setup(t)
	all := b.deliverAll(medway())
	b.api(b.token("key-adult.118234"), http.MethodGet, "/v1/workspace/notices", "")
	var got []string
	for _, d := range b.accessData() {
		got = append(got, d["resource"].(string)+" "+d["notification_id"].(string))
	}
	want := []string{"notice_summary " + all["E06000035"][events.KindSchool].NotificationID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("access events (-want +got):\n%s", diff)
	}
}

func TestAReadThatCannotBeRecordedIsRefused(t *testing.T) {
	b := setup(t)
	m := medway()
	all := b.deliverAll(m)
	token := b.token("key-adult.118234")
	if _, err := b.pool.Exec(context.Background(), `ALTER TABLE workspace.outbox RENAME TO outbox_gone`); err != nil {
		t.Fatalf("breaking the outbox: %v", err)
	}
	r := b.api(token, http.MethodGet, "/v1/workspace/notices/"+all[m.la][events.KindSchool].NotificationID, "")
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", r.status)
	}
	for _, marker := range m.markers {
		if strings.Contains(r.body, marker) {
			t.Errorf("an unrecorded read showed %q", marker)
		}
	}
}

// earlier builds an earlier Medway incident about some of the same people.
func earlier(name string, occurred time.Time, la string, mutate func(*ppn.Incident)) area {
	a := medway()
	a.incidentID = cloudevent.DeriveID("fixture", name)
	a.incident.PoliceReference = "KNT-25-" + name
	a.incident.OccurredAt, a.incident.ReportedAt = occurred, occurred.Add(20*time.Minute)
	a.la, a.incident.LocalAuthorityCode = la, la
	mutate(&a.incident)
	return a
}

func TestIncidentShowsEarlierIncidentsForTheSamePeople(t *testing.T) {
	b := setup(t)
	now := medway()
	byNHS := earlier("byNHS", now.incident.OccurredAt.Add(-30*24*time.Hour), now.la, func(in *ppn.Incident) {
		in.Adults = []ppn.Adult{{PersonID: "A", Role: ppn.RoleVictim, Name: "Somebody Else"}}
		in.Children[0].Name = "Amy M. Medwaychild"
	})
	byName := earlier("byName", now.incident.OccurredAt.Add(-200*24*time.Hour), now.la, func(in *ppn.Incident) {
		in.Children = []ppn.Child{{PersonID: "X", Name: "Other Child", DateOfBirth: "2020-01-01"}}
		in.Adults = []ppn.Adult{{PersonID: "Q", Role: ppn.RolePerpetrator, Name: "JOHN  medwayperp", DateOfBirth: "1990-07-15"}}
	})
	tooOld := earlier("tooOld", now.incident.OccurredAt.Add(-400*24*time.Hour), now.la, func(*ppn.Incident) {})
	otherMASH := earlier("otherMASH", now.incident.OccurredAt.Add(-10*24*time.Hour), "E10000016", func(*ppn.Incident) {})
	var ids []string
	for _, a := range []area{now, byNHS, byName, tooOld, otherMASH} {
		n := a.notice(t, "R1", events.KindMASH, a.la, "MASH", "A", a.incident, time.Hour)
		b.deliver(n)
		ids = append(ids, n.NotificationID)
	}
	b.waitDelivered(ids...)
	var got struct {
		History []struct {
			IncidentID      string   `json:"incident_id"`
			PoliceReference string   `json:"police_reference"`
			MatchedPeople   []string `json:"matched_people"`
			MatchedBy       []string `json:"matched_by"`
		} `json:"history"`
	}
	r := b.api(b.token("mash-worker.e06000035"), http.MethodGet, "/v1/workspace/mash/incidents/"+now.incidentID, "")
	if r.status != http.StatusOK {
		t.Fatalf("incident: %d %s", r.status, r.body)
	}
	decode(t, r, &got)
	type item = struct {
		IncidentID      string   `json:"incident_id"`
		PoliceReference string   `json:"police_reference"`
		MatchedPeople   []string `json:"matched_people"`
		MatchedBy       []string `json:"matched_by"`
	}
	want := []item{
		{byNHS.incidentID, "KNT-25-byNHS", []string{"Amy M. Medwaychild"}, []string{"nhs_number"}},
		{byName.incidentID, "KNT-25-byName", []string{"JOHN  medwayperp"}, []string{"name_and_date_of_birth"}},
	}
	if diff := cmp.Diff(want, got.History); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	var recorded []string
	for _, d := range b.accessData() {
		recorded = append(recorded, d["resource"].(string)+" "+d["incident_id"].(string))
	}
	wantRecorded := []string{"incident " + now.incidentID, "incident_history " + byNHS.incidentID, "incident_history " + byName.incidentID}
	if diff := cmp.Diff(wantRecorded, recorded, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("access events (-want +got):\n%s", diff)
	}
}

package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// mashNotice is medway's MASH notice about an incident that occurred at
// occurred, which the MASH received at received, with R1's deadline r1
// after the incident and R2's triage deadline r2 after receipt.
func mashNotice(t *testing.T, ref string, occurred, received time.Time, r1, r2 time.Duration) events.NotificationRequestedData {
	a := medway()
	a.incidentID = cloudevent.DeriveID("fixture", ref)
	a.incident.PoliceReference = ref
	a.incident.OccurredAt, a.incident.ReportedAt = occurred, received.Add(-time.Minute)
	n := a.notice(t, "R1", events.KindMASH, a.la, "Medway MASH", "A", a.incident, r1)
	triage := received.Add(r2)
	n.TriageDueAt = &triage
	return n
}

// TestMASHQueueShowsAndOrdersByTheTriageDeadline is a notice posted twelve
// days after the incident: R1 (police to MASH, 24 hours from the incident)
// is long past, but R2 gives the MASH four hours from receipt to rate it.
// The queue must say four hours, not "overdue by 12 days", and order by
// triage: another notice whose R1 deadline is later but whose triage is
// due sooner comes first.
func TestMASHQueueShowsAndOrdersByTheTriageDeadline(t *testing.T) {
	b := setup(t)
	now := b.clock.Now()
	late := mashNotice(t, "KNT-26-LATE01", now.Add(-12*24*time.Hour), now.Add(-11*time.Minute), 24*time.Hour, 4*time.Hour)
	soon := mashNotice(t, "KNT-26-SOON01", now.Add(-30*time.Minute), now.Add(-2*time.Hour-time.Minute), time.Hour, 3*time.Hour)
	b.deliver(late)
	b.deliver(soon)
	b.waitDelivered(late.NotificationID, soon.NotificationID)

	resp := b.api(b.token("mash-worker.e06000035"), http.MethodGet, "/v1/workspace/mash/queue", "")
	var body struct {
		Queue []struct {
			NotificationID string `json:"notification_id"`
			ArrivedLate    bool   `json:"arrived_late"`
			Deadline       struct {
				SecondsLeft int64 `json:"seconds_left"`
			} `json:"deadline"`
			TriageDeadline struct {
				TimeLeft string `json:"time_left"`
			} `json:"triage_deadline"`
		} `json:"queue"`
	}
	if err := json.Unmarshal([]byte(resp.body), &body); err != nil || resp.status != http.StatusOK || len(body.Queue) != 2 {
		t.Fatalf("queue: %d %s (%v)", resp.status, resp.body, err)
	}
	first, second := body.Queue[0], body.Queue[1]
	if first.NotificationID != soon.NotificationID || second.NotificationID != late.NotificationID {
		t.Errorf("queue order %s, %s; want the notice whose triage is due sooner first", first.NotificationID, second.NotificationID)
	}
	if !second.ArrivedLate || second.Deadline.SecondsLeft >= 0 || second.TriageDeadline.TimeLeft != "3 h 49 min left" {
		t.Errorf("late notice: arrived_late %v, R1 seconds left %d, triage %q; want true, negative, 3 h 49 min left",
			second.ArrivedLate, second.Deadline.SecondsLeft, second.TriageDeadline.TimeLeft)
	}
	if first.ArrivedLate || first.TriageDeadline.TimeLeft != "59 min left" {
		t.Errorf("on-time notice: arrived_late %v, triage %q; want false, 59 min left", first.ArrivedLate, first.TriageDeadline.TimeLeft)
	}

	br := b.signIn("mash-worker.e06000035")
	page := br.get("/mash").body
	if strings.Index(page, "KNT-26-SOON01") > strings.Index(page, "KNT-26-LATE01") {
		t.Error("the queue page lists the late notice first")
	}
	row := page[strings.Index(page, "KNT-26-LATE01"):]
	row = row[:strings.Index(row, "</tr>")]
	for _, want := range []string{"3 h 49 min left", "Police to MASH (R1) was due", "reached the MASH 10 days 23 h after it"} {
		if !strings.Contains(row, want) {
			t.Errorf("the late notice's row lacks %q:\n%s", want, row)
		}
	}
	if strings.Contains(row, "overdue") {
		t.Errorf("the late notice's row calls it overdue:\n%s", row)
	}
	incident := br.get("/mash/incidents/" + late.IncidentID).body
	if !strings.Contains(incident, "Triage: <span class=\"\"><strong>3 h 49 min left</strong>") ||
		!strings.Contains(incident, "Police to MASH (R1) was due") {
		t.Errorf("the incident page does not show the triage deadline and R1's:\n%s", incident)
	}
}

package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// TestHomeEducationOfficerReadsAndAcknowledges follows a notice the router
// sends the local authority's elective home education team (rule R9,
// profile B_minimal): the officer sees it in their inbox with only what
// the profile holds, and acknowledges it, which reaches the stream on the
// home education subject.
func TestHomeEducationOfficerReadsAndAcknowledges(t *testing.T) {
	b := setup(t)
	med, kt := medway(), kent()
	all := b.deliverAll(med, kt)
	own := all[med.la][events.KindHomeEducation]
	token := b.token("home-education.e06000035")

	type summary struct {
		NotificationID string   `json:"notification_id"`
		Profile        string   `json:"profile"`
		Children       []string `json:"children"`
		Status         string   `json:"status"`
	}
	var inbox struct {
		Notices []summary `json:"notices"`
	}
	decode(t, b.api(token, http.MethodGet, "/v1/workspace/notices", ""), &inbox)
	want := []summary{{NotificationID: own.NotificationID, Profile: "B_minimal", Children: []string{"Amy Medwaychild"}, Status: "new"}}
	if diff := cmp.Diff(want, inbox.Notices); diff != "" {
		t.Errorf("inbox (-want +got):\n%s", diff)
	}

	page := b.signIn("home-education.e06000035").get("/notices/" + own.NotificationID)
	if page.status != http.StatusOK || !strings.Contains(page.body, "Amy Medwaychild") {
		t.Fatalf("notice page: %d", page.status)
	}
	for _, m := range []string{"Medwayvictim", "Medwayperp", "KNT-26-700001", "Medway narrative", "9434765919"} {
		if strings.Contains(page.body, m) {
			t.Errorf("the home education notice shows %q, which profile B_minimal leaves out", m)
		}
	}

	ack := b.api(token, http.MethodPost, "/v1/workspace/notices/"+own.NotificationID+"/acknowledge", "")
	if ack.status != http.StatusCreated {
		t.Fatalf("acknowledging: %d %s", ack.status, ack.body)
	}
	var body struct {
		EventID        string `json:"event_id"`
		AcknowledgedBy struct {
			Role string `json:"role"`
		} `json:"acknowledged_by"`
	}
	decode(t, ack, &body)
	if body.AcknowledgedBy.Role != "home_education_officer" {
		t.Errorf("acknowledged by role %q, want home_education_officer", body.AcknowledgedBy.Role)
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		return wantCount(b.streamCount("sg.notification.acknowledged.home_education", body.EventID), 1)
	})
}

package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// TestDisclosureLogIsTheAuditorsAndEverySearchIsRecorded: the auditor
// finds, by NHS number, the notice that named a child; a person never
// named finds nothing; a MASH worker is refused; each search is recorded
// as an access without the number searched for.
func TestDisclosureLogIsTheAuditorsAndEverySearchIsRecorded(t *testing.T) {
	b := setup(t)
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	b.recordAudit(pt.NewIncident(t, pt.IncidentID(9)).
		Reported(at, "high", false, pt.Child{ID: "C-1", NHSNumber: "9434765919"}).
		Requested(pt.Request{NotificationID: pt.NotificationID(9, 1), RuleID: "R8", Kind: events.KindSchool, RecipientID: "118234",
			RecipientName: "Example Primary School", ChildIDs: []string{"C-1"}, At: at.Add(time.Second), Due: at.Add(time.Hour)}))
	auditor := b.signIn("auditor")
	found := auditor.get("/audit/disclosures?nhs_number=9434765919")
	if found.status != http.StatusOK || !strings.Contains(found.body, "Example Primary School") || !strings.Contains(found.body, "1 notices named the person") {
		t.Errorf("the auditor's search = %d, without the school's notice:\n%s", found.status, found.body)
	}
	none := auditor.get("/audit/disclosures?nhs_number=7382946150")
	if none.status != http.StatusOK || !strings.Contains(none.body, "0 notices named the person") {
		t.Errorf("a search for a person never named = %d:\n%s", none.status, none.body)
	}
	if worker := b.signIn("mash-worker.e06000035").get("/audit/disclosures?nhs_number=9434765919"); worker.status != http.StatusForbidden {
		t.Errorf("a MASH worker's search = %d, want 403", worker.status)
	}
	var searches int
	for _, e := range b.outboxEvents(events.AccessRecorded) {
		data, _ := e["data"].(map[string]any)
		if data["resource"] == "disclosure_log" && data["outcome"] == "allowed" {
			searches++
			if strings.Contains(mustString(e), "9434765919") {
				t.Errorf("the access record holds the NHS number searched for: %v", e)
			}
		}
	}
	if searches != 2 {
		t.Errorf("disclosure searches recorded = %d, want 2", searches)
	}
}

func mustString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

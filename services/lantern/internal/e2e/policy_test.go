package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

const daService = "domestic_abuse_service/E06000035"

// policyPPN is the sample notice with its own people (so that no two are
// repeats of each other), a DASH level and tick count, and a police
// reference of its own.
func policyPPN(t *testing.T, n int, level string, ticks int) []byte {
	t.Helper()
	var ppn map[string]any
	if err := json.Unmarshal(cluster.SamplePPN(t), &ppn); err != nil {
		t.Fatal(err)
	}
	ppn["police_reference"] = fmt.Sprintf("KNT-26-9%05d", n)
	ppn["dash"] = map[string]any{"level": level, "yes_count": ticks, "professional_judgement_high": false}
	ppn["incidents_same_parties_12m"] = 0
	for _, a := range ppn["adults"].([]any) {
		adult := a.(map[string]any)
		adult["name"] = fmt.Sprintf("%s Policytest%d", adult["name"], n)
	}
	ppn["adults"] = append(ppn["adults"].([]any), map[string]any{"person_id": "P-3", "role": "other", "name": fmt.Sprintf("Olive Policytest%d", n)})
	for _, c := range ppn["children"].([]any) {
		child := c.(map[string]any)
		child["name"] = fmt.Sprintf("Amy Policytest%d", n)
		delete(child, "nhs_number")
	}
	out, err := json.Marshal(ppn)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requested returns the notification.requested data the ledger holds for
// the incident's notice to kind.
func (p pipeline) requested(incidentID, kind string) (events.NotificationRequestedData, bool) {
	p.t.Helper()
	raw := p.strings(`SELECT convert_from(event, 'UTF8') FROM ledger.entries WHERE incident_id = $1 AND nats_subject = $2`,
		incidentID, "sg.notification.requested."+kind)
	if len(raw) == 0 {
		return events.NotificationRequestedData{}, false
	}
	// The ledger keeps the event with its personal fields sealed under
	// the incident's key; a sealer with the cluster's key opens them.
	e := event.New()
	if err := e.UnmarshalJSON([]byte(raw[0])); err != nil {
		p.t.Fatal(err)
	}
	spec, _ := strings.CutPrefix(p.KEKEnv(), sealed.EnvKEK+"=")
	kek, err := sealed.ParseKEK(context.Background(), spec)
	if err != nil {
		p.t.Fatal(err)
	}
	opened, err := sealed.New(p.Pool, sealed.NewKeyring(kek), clock.System).OpenEvent(context.Background(), e)
	if err != nil {
		p.t.Fatal(err)
	}
	var n events.NotificationRequestedData
	if err := opened.DataAs(&n); err != nil {
		p.t.Fatal(err)
	}
	return n, true
}

// requestedEventually waits for the ledger to hold the notice.
func (p pipeline) requestedEventually(incidentID, kind string) events.NotificationRequestedData {
	p.t.Helper()
	var n events.NotificationRequestedData
	p.WaitFor(60*time.Second, func() error {
		var ok bool
		if n, ok = p.requested(incidentID, kind); !ok {
			return fmt.Errorf("the ledger has no notice to %s yet", kind)
		}
		return nil
	})
	return n
}

// TestPolicyEditedWhileThePipelineRuns adds the sample rule and its
// recipient kind to the policy file of a running pipeline: the next
// incident that matches gets the new notice, with its recipient, profile,
// deadline and lawful basis, delivered to the service's inbox, watched by
// the escalation service and counted by the ledger and the report; an
// incident that does not match gets none. Then R2 is edited, and the MASH
// notice's triage deadline, the MASH queue and the escalation service's
// triage step move together.
func TestPolicyEditedWhileThePipelineRuns(t *testing.T) {
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	copyFile(t, filepath.Join(cluster.Root(), "policy", "default.yaml"), policyFile)
	services := append(slices.Clone(cluster.Pipeline), "workspace", "escalation")
	p := pipeline{Cluster: cluster.New(t, cluster.Options{Services: services, Env: []string{"LANTERN_POLICY_FILE=" + policyFile,
		"LANTERN_POLICY_POLL=200ms"}}), t: t}

	before := p.accept(policyPPN(t, 1, "medium", 8), "Idempotency-Key", "policy-edit-1")
	if got := p.decided(before); slices.Contains(got, daService) {
		t.Fatalf("the default policy sent to the domestic abuse service: %v", got)
	}

	copyFile(t, filepath.Join(cluster.Root(), "policy", "samples", "medium-risk-da-service.yaml"), policyFile)
	// The router looks at the file every 200 ms; the first matching
	// incident it decides after that carries the new notice.
	var matching string
	for n := 2; matching == ""; n++ {
		if n > 60 {
			t.Fatal("no incident got the sample rule's notice after the policy was edited")
		}
		id := p.accept(policyPPN(t, n, "medium", 8), "Idempotency-Key", fmt.Sprintf("policy-edit-%d", n))
		if slices.Contains(p.decided(id), daService) {
			matching = id
		}
	}
	next := p.accept(policyPPN(t, 100, "medium", 8), "Idempotency-Key", "policy-edit-next")
	notMatching := p.accept(policyPPN(t, 101, "high", 15), "Idempotency-Key", "policy-edit-high")
	if got := p.decided(next); !slices.Contains(got, daService) {
		t.Errorf("the next matching incident was not sent to the service: %v", got)
	}
	if got := p.decided(notMatching); slices.Contains(got, daService) || !slices.Contains(got, "marac/E06000035") {
		t.Errorf("a high-risk incident went to the service, or not to MARAC: %v", got)
	}

	p.checkSampleNotice(next)
	p.checkServiceTreatment(next)

	p.checkTriageDeadlineFollowsThePolicy(policyFile)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Written beside and renamed, so the router never reads half a file.
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

// checkSampleNotice: the sample rule's recipient, profile, deadline and
// lawful basis, as the ledger recorded them.
func (p pipeline) checkSampleNotice(incidentID string) {
	p.t.Helper()
	n := p.requestedEventually(incidentID, "domestic_abuse_service")
	ref, err := refdata.Load(filepath.Join(cluster.Root(), "reference"))
	if err != nil {
		p.t.Fatal(err)
	}
	// The sample notice happened on Friday 20 November 2026 at 22:15: one
	// working day is the end of Monday 23 November.
	occurred := time.Date(2026, 11, 20, 22, 15, 0, 0, time.UTC)
	due := calendar.EndOfWorkingDay(occurred, 1, ref.Holidays())
	switch {
	case n.RuleID != "DA1" || n.Profile != "A" || n.Calendar != "working_day" || n.PolicyVersion != "sample-medium-risk-da-2027.1":
		p.t.Errorf("notice rule %s profile %s calendar %s version %s", n.RuleID, n.Profile, n.Calendar, n.PolicyVersion)
	case n.Recipient.Name != "Medway Domestic Abuse Service" || n.Recipient.Email != "da-service@medway.lantern.test":
		p.t.Errorf("recipient %+v", n.Recipient)
	case !n.DueAt.Equal(due):
		p.t.Errorf("due %s, want %s", n.DueAt, due)
	case n.LawfulBasis != "UK GDPR Art 6(1)(e) public task; DPA 2018 Sch 1 para 18 safeguarding of individuals at risk":
		p.t.Errorf("lawful basis %q", n.LawfulBasis)
	case !strings.Contains(string(n.Notice), `"role":"victim"`) || strings.Contains(string(n.Notice), `"role":"other"`):
		p.t.Errorf("not the victim-focused notice: %s", n.Notice)
	}
}

// checkServiceTreatment: the new kind is delivered to its inbox, its
// practitioner acknowledges it in the workspace, the escalation service
// watches its delivery and acknowledgement, and the report counts it.
func (p pipeline) checkServiceTreatment(incidentID string) {
	p.t.Helper()
	p.WaitFor(60*time.Second, func() error {
		if !slices.Contains(p.inboxes(incidentID), daService) {
			return fmt.Errorf("not yet in the service's inbox")
		}
		return nil
	})
	var user sampleUser
	for _, u := range sampleUsers(p.t, p.Cluster) {
		if u.Username == "domestic-abuse-service.e06000035" {
			user = u
		}
	}
	if user.Role != "partner_service" {
		p.t.Fatalf("no sample practitioner for the domestic abuse service: %+v", user)
	}
	if n := acknowledgeInbox(p.t, p.Cluster, signIn(p.t, p.Cluster, user), func(int) bool { return false }); n == 0 {
		p.t.Error("the service's inbox was empty")
	}
	n := p.requestedEventually(incidentID, "domestic_abuse_service")
	p.WaitFor(60*time.Second, func() error {
		steps := p.strings(`SELECT step || ':' || (done_at IS NOT NULL) FROM escalation.steps WHERE notification_id = $1 ORDER BY 1`, n.NotificationID)
		if !slices.Equal(steps, []string{"acknowledgement:true", "delivery:true"}) {
			return fmt.Errorf("escalation steps %v", steps)
		}
		if types := p.ledgerTypes(incidentID); !slices.Contains(types, "notification.acknowledged") {
			return fmt.Errorf("ledger %v has no acknowledgement", types)
		}
		return nil
	})
	// The auditor reads the report through the workspace, whose own
	// database role reads the ledger's audit schema by an explicit grant.
	today := calendar.DateOf(time.Now().In(calendar.London))
	var rep timeliness.Report
	apiCall(p.t, p.Cluster, signIn(p.t, p.Cluster, sampleUserWithRole(p.t, p.Cluster, "auditor")), http.MethodGet,
		"/audit/report?from="+today.AddDays(-1).String()+"&to="+today.AddDays(1).String(), nil, http.StatusOK, &rep)
	counted := 0
	for _, theme := range rep.Themes {
		for _, r := range theme.Rows {
			if r.RuleID == "DA1" && r.RecipientKind == "domestic_abuse_service" {
				counted += r.Count
			}
		}
	}
	if counted < 2 {
		p.t.Errorf("the report counts %d DA1 notices, want at least 2", counted)
	}
}

func sampleUserWithRole(t *testing.T, c *cluster.Cluster, role string) sampleUser {
	t.Helper()
	return sampleUserWhere(t, c, "has the role "+role, func(u sampleUser) bool { return u.Role == role })
}

// checkQueueShows waits for the incident in the MASH's triage queue and
// checks that the queue shows the triage deadline due.
func (p pipeline) checkQueueShows(incidentID string, due time.Time) {
	p.t.Helper()
	var worker sampleUser
	for _, u := range sampleUsers(p.t, p.Cluster) {
		if u.Username == "mash-worker.e06000035" {
			worker = u
		}
	}
	token := signIn(p.t, p.Cluster, worker)
	p.WaitFor(60*time.Second, func() error {
		var queue struct {
			Queue []struct {
				IncidentID     string `json:"incident_id"`
				TriageDeadline struct {
					DueAt time.Time `json:"due_at"`
				} `json:"triage_deadline"`
			} `json:"queue"`
		}
		apiCall(p.t, p.Cluster, token, http.MethodGet, "/mash/queue", nil, http.StatusOK, &queue)
		for _, item := range queue.Queue {
			if item.IncidentID == incidentID {
				if !item.TriageDeadline.DueAt.Equal(due) {
					p.t.Fatalf("the MASH queue shows triage due %s, the policy says %s", item.TriageDeadline.DueAt, due)
				}
				return nil
			}
		}
		return fmt.Errorf("the incident is not in the MASH queue yet")
	})
}

// checkTriageDeadlineFollowsThePolicy edits R2's amber limit: the next
// amber incident's MASH notice carries the new triage deadline, counted
// from the MASH's receipt, and the escalation service's triage step is due
// at the same moment.
func (p pipeline) checkTriageDeadlineFollowsThePolicy(policyFile string) {
	p.t.Helper()
	data, err := os.ReadFile(policyFile)
	if err != nil {
		p.t.Fatal(err)
	}
	text := strings.Replace(string(data), "version: sample-medium-risk-da-2027.1", "version: sample-r2-edited", 1)
	text = strings.Replace(text, `{when: "default_rag == 'amber'", calendar: mash_hours, limit: 24h}`,
		`{when: "default_rag == 'amber'", calendar: clock, limit: 2h}`, 1)
	edited := policyFile + ".edited"
	if err := os.WriteFile(edited, []byte(text), 0o644); err != nil {
		p.t.Fatal(err)
	}
	copyFile(p.t, edited, policyFile)
	for n := 200; ; n++ {
		if n > 260 {
			p.t.Fatal("no MASH notice carried the edited triage deadline")
		}
		id := p.accept(policyPPN(p.t, n, "medium", 8), "Idempotency-Key", fmt.Sprintf("policy-r2-%d", n))
		p.decided(id)
		mash := p.requestedEventually(id, "mash")
		if mash.PolicyVersion != "sample-r2-edited" {
			continue
		}
		var received time.Time
		if err := p.Pool.QueryRow(p.t.Context(), `SELECT received_at FROM router.cases WHERE incident_id = $1`, id).Scan(&received); err != nil {
			p.t.Fatal(err)
		}
		// PostgreSQL keeps microseconds; the event, nanoseconds.
		if mash.TriageDueAt == nil || !mash.TriageDueAt.Truncate(time.Microsecond).Equal(received.Add(2*time.Hour)) {
			p.t.Fatalf("MASH triage due %v, want two hours after the receipt %s", mash.TriageDueAt, received)
		}
		p.WaitFor(60*time.Second, func() error {
			var due time.Time
			err := p.Pool.QueryRow(p.t.Context(), `SELECT due_at FROM escalation.steps WHERE notification_id = $1 AND step = 'triage'`,
				mash.NotificationID).Scan(&due)
			if err != nil {
				return fmt.Errorf("no triage step yet: %w", err)
			}
			if !due.Equal(mash.TriageDueAt.Truncate(time.Microsecond)) {
				p.t.Fatalf("escalation's triage step is due %s, the MASH notice says %s", due, mash.TriageDueAt)
			}
			return nil
		})
		p.checkQueueShows(id, mash.TriageDueAt.Truncate(time.Microsecond))
		return
	}
}

package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
)

// endpoint is one API path or page, with the action the policy knows it by.
type endpoint struct {
	name   string
	method string
	// path has {n} for a notification id, {i} for an incident id, or {a}
	// for an incident in the audit record.
	path   string
	action authz.Action
	page   bool
	// ok lists the statuses of an allowed request.
	ok []int
}

func endpoints() []endpoint {
	ok := []int{http.StatusOK}
	created := []int{http.StatusOK, http.StatusCreated}
	redirect := []int{http.StatusSeeOther}
	return []endpoint{
		{"api me", "GET", "/v1/workspace/me", authz.ReadAccount, false, ok},
		{"api inbox", "GET", "/v1/workspace/notices", authz.ListNotices, false, ok},
		{"api notice", "GET", "/v1/workspace/notices/{n}", authz.ReadNotice, false, ok},
		{"api acknowledge", "POST", "/v1/workspace/notices/{n}/acknowledge", authz.Acknowledge, false, created},
		{"api record", "GET", "/v1/workspace/notices/{n}/record", authz.ReadRecord, false, ok},
		{"api queue", "GET", "/v1/workspace/mash/queue", authz.MASHQueue, false, ok},
		{"api incident", "GET", "/v1/workspace/mash/incidents/{i}", authz.ReadIncident, false, ok},
		{"api claim", "POST", "/v1/workspace/mash/incidents/{i}/claim", authz.Claim, false, ok},
		{"api release", "POST", "/v1/workspace/mash/incidents/{i}/release", authz.Release, false, []int{http.StatusNoContent}},
		{"api triage", "POST", "/v1/workspace/mash/incidents/{i}/triage", authz.Triage, false, created},
		{"api overview", "GET", "/v1/workspace/overview", authz.ReadOverview, false, ok},
		{"page account", "GET", "/account", authz.ReadAccount, true, ok},
		{"page inbox", "GET", "/inbox", authz.ListNotices, true, ok},
		{"page notice", "GET", "/notices/{n}", authz.ReadNotice, true, ok},
		{"page acknowledge", "POST", "/notices/{n}/acknowledge", authz.Acknowledge, true, redirect},
		{"page record", "GET", "/notices/{n}/record", authz.ReadRecord, true, ok},
		{"page queue", "GET", "/mash", authz.MASHQueue, true, ok},
		{"page incident", "GET", "/mash/incidents/{i}", authz.ReadIncident, true, ok},
		{"page claim", "POST", "/mash/incidents/{i}/claim", authz.Claim, true, redirect},
		{"page release", "POST", "/mash/incidents/{i}/release", authz.Release, true, redirect},
		{"page triage", "POST", "/mash/incidents/{i}/triage", authz.Triage, true, redirect},
		{"page overview", "GET", "/overview", authz.ReadOverview, true, ok},
		{"api audit report", "GET", "/v1/workspace/audit/report", authz.ReadAuditReport, false, ok},
		{"api audit report csv", "GET", "/v1/workspace/audit/report?format=csv&from=2026-11-01&to=2026-11-30", authz.ReadAuditReport, false, ok},
		{"api audit timeline", "GET", "/v1/workspace/audit/incidents/{a}/timeline", authz.ReadAuditTimeline, false, ok},
		{"page audit report", "GET", "/audit", authz.ReadAuditReport, true, ok},
		{"page audit report of a period", "GET", "/audit?from=2026-11-01&to=2026-11-30", authz.ReadAuditReport, true, ok},
		{"page audit download", "GET", "/audit/export/csv", authz.ReadAuditReport, true, ok},
		{"page audit lookup", "GET", "/audit/incidents?id=" + medway().incidentID, authz.ReadAuditTimeline, true, redirect},
		{"page audit timeline", "GET", "/audit/incidents/{a}", authz.ReadAuditTimeline, true, ok},
	}
}

// target is a record a request names, and whether it is the user's own.
type target struct {
	name           string
	notificationID string
	incidentID     string
	own            bool
}

// matrixUser is one sample user and the kind of notice that is theirs.
type matrixUser struct {
	username string
	role     identity.Role
	kind     events.RecipientKind
}

var matrixUsers = []matrixUser{
	{"mash-worker.e06000035", identity.RoleMASHWorker, events.KindMASH},
	{"mash-manager.e06000035", identity.RoleMASHManager, events.KindMASH},
	{"key-adult.118234", identity.RoleSchoolKeyAdult, events.KindSchool},
	{"health-visiting.e06000035", identity.RoleHealth, events.KindHealthVisiting},
	{"probation.e06000035", identity.RoleProbation, events.KindProbation},
	{"marac.e06000035", identity.RoleMARAC, events.KindMARAC},
	{"idva.e06000035", identity.RoleIDVA, events.KindIDVA},
	{"home-education.e06000035", identity.RoleHomeEducation, events.KindHomeEducation},
	{"auditor", identity.RoleAuditor, events.KindMASH},
	{"administrator", identity.RoleAdministrator, events.KindMASH},
}

// TestAuthorisationMatrix asks every endpoint, page and API alike, as every
// role, about a record of the user's own organisation, one of the same kind
// in another local authority, and one of another organisation in the same
// area; the audit endpoints, about both areas' incidents and one the
// ledger does not hold. It checks the status the policy calls for, and
// that no response carries anything the user's own notice does not: no
// other organisation's data, and nothing beyond the user's payload profile.
// The auditor's own record is the audit record, which holds no names, no
// police references and no notice text at all, though the ledger holds the
// whole police notice of both incidents.
func TestAuthorisationMatrix(t *testing.T) {
	b := setup(t)
	med, kt := medway(), kent()
	all := b.deliverAll(med, kt)
	b.recordArea(med, all[med.la])
	b.recordArea(kt, all[kt.la])
	markers := append(slices.Clone(med.markers), kt.markers...)
	refusals, requests := 0, 0
	for _, mu := range matrixUsers {
		own := all[med.la][mu.kind]
		sameArea := all[med.la][events.KindSchool]
		if mu.kind == events.KindSchool {
			sameArea = all[med.la][events.KindHealthVisiting]
		}
		targets := []target{
			{"own", own.NotificationID, own.IncidentID, true},
			{"another area", all[kt.la][mu.kind].NotificationID, kt.incidentID, false},
			{"another organisation", sameArea.NotificationID, "", false},
		}
		forbidden := forbiddenMarkers(markers, string(own.Notice), mu.role)
		token := b.token(mu.username)
		br := b.signIn(mu.username)
		for _, ep := range endpoints() {
			for _, tg := range targetsFor(ep, targets) {
				name := fmt.Sprintf("%s/%s/%s", mu.username, ep.name, tg.name)
				r := b.call(br, token, ep, tg)
				requests++
				want := expected(mu.role, ep, tg)
				if !slices.Contains(want, r.status) {
					t.Errorf("%s: status %d, want %v\n%s", name, r.status, want, r.body)
				}
				if r.status == http.StatusForbidden || r.status == http.StatusNotFound {
					refusals++
				}
				for _, m := range forbidden {
					if strings.Contains(r.body, m) {
						t.Errorf("%s: response shows %q, which is not this user's to see", name, m)
					}
				}
			}
		}
	}
	refused := 0
	for _, e := range b.outboxEvents(events.AccessRecorded) {
		if e["data"].(map[string]any)["outcome"] == events.AccessRefused {
			refused++
		}
	}
	t.Logf("%d requests, %d refused and recorded", requests, refused)
	if refused != refusals {
		t.Errorf("%d refusals answered, %d recorded as access events", refusals, refused)
	}
}

// auditTargets are the incidents an audit endpoint can name: an auditor
// may read any the ledger holds, whichever area it is in.
var auditTargets = []target{
	{name: "an incident", incidentID: medway().incidentID, own: true},
	{name: "another area's incident", incidentID: kent().incidentID, own: true},
	{name: "an incident the ledger does not hold", incidentID: cloudevent.DeriveID("fixture", "nowhere")},
}

// targetsFor is the targets an endpoint can name: every target for one
// that names a record, one request for a list.
func targetsFor(ep endpoint, targets []target) []target {
	switch {
	case strings.Contains(ep.path, "{n}"):
		return targets
	case strings.Contains(ep.path, "{i}"):
		return []target{targets[0], targets[1]}
	case strings.Contains(ep.path, "{a}"):
		return auditTargets
	}
	return []target{{name: "list", own: true}}
}

func expected(role identity.Role, ep endpoint, tg target) []int {
	switch {
	case !authz.Permits(role, ep.action):
		return []int{http.StatusForbidden}
	case tg.own:
		return ep.ok
	}
	return []int{http.StatusNotFound}
}

// forbiddenMarkers are the markers the user's own notice does not carry;
// oversight roles see none at all.
func forbiddenMarkers(markers []string, ownNotice string, role identity.Role) []string {
	var out []string
	for _, m := range markers {
		if len(role.Kinds()) == 0 || !strings.Contains(ownNotice, m) {
			out = append(out, m)
		}
	}
	return out
}

// triageForm is the decision every MASH request in the matrix makes: the
// proposed rating, so that each repeat is the same decision.
var triageForm = url.Values{"rag": {"red"}, "decision": {"early_help"}}

func (b *bundle) call(br *browser, token string, ep endpoint, tg target) response {
	b.t.Helper()
	path := strings.NewReplacer("{n}", tg.notificationID, "{i}", tg.incidentID, "{a}", tg.incidentID).Replace(ep.path)
	body := ""
	if ep.action == authz.Triage {
		body = `{"rag":"red","decision":"early_help"}`
	}
	if !ep.page {
		return b.api(token, ep.method, path, body)
	}
	if ep.method == http.MethodGet {
		return br.get(path)
	}
	form := url.Values{}
	if ep.action == authz.Triage {
		form = url.Values{"rag": triageForm["rag"], "decision": triageForm["decision"]}
	}
	return br.post(path, form)
}

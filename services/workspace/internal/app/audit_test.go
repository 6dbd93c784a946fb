package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

const november = "from=2026-11-01&to=2026-11-30"

// cliReport is the report `lantern audit report` makes for November 2026
// from the same database, as at the workspace's clock.
func (b *bundle) cliReport() timeliness.Report {
	b.t.Helper()
	from, _ := calendar.ParseDate("2026-11-01")
	to, _ := calendar.ParseDate("2026-11-30")
	rep, err := timeliness.Load(context.Background(), b.pool, timeliness.Options{From: from, To: to, AsOf: b.clock.Now()})
	if err != nil {
		b.t.Fatalf("computing the report: %v", err)
	}
	return rep
}

// jsonValue decodes JSON into plain values, dropping the keys named, so
// that two encodings can be compared field by field.
func jsonValue(t *testing.T, data []byte, drop ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return without(v, drop)
}

func without(v any, drop []string) any {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range drop {
			delete(x, k)
		}
		for k, e := range x {
			x[k] = without(e, drop)
		}
	case []any:
		for i, e := range x {
			x[i] = without(e, drop)
		}
	}
	return v
}

func TestAuditReportHasTheFiguresOfTheCommandLine(t *testing.T) {
	b := setup(t)
	b.recordAudit(auditIncidents(t))
	want := b.cliReport()
	got := want.Totals
	if diff := cmp.Diff(novemberTotals, struct{ Incidents, Notifications, OnTime, Decided, Breaches int }{
		got.Incidents, got.Notifications, got.OnTime, got.Decided, got.Breaches}); diff != "" {
		t.Fatalf("the fixtures' November totals (-want +got):\n%s", diff)
	}
	wantJSON, _ := json.Marshal(want)
	var wantCSV, wantHTML bytes.Buffer
	if err := timeliness.WriteCSV(&wantCSV, want); err != nil {
		t.Fatal(err)
	}
	if err := timeliness.WriteHTML(&wantHTML, want); err != nil {
		t.Fatal(err)
	}
	token := b.token("auditor")
	br := b.signIn("auditor")

	r := b.api(token, http.MethodGet, "/v1/workspace/audit/report?"+november, "")
	if r.status != http.StatusOK {
		t.Fatalf("API report: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(jsonValue(t, wantJSON), jsonValue(t, []byte(r.body))); diff != "" {
		t.Errorf("API report differs from the command line's (-want +got):\n%s", diff)
	}
	cases := []struct {
		name     string
		get      func() response
		wantType string
		want     string
	}{
		{"CSV download", func() response { return br.get("/audit/export/csv?" + november) }, "text/csv; charset=utf-8", wantCSV.String()},
		{"HTML page", func() response { return br.get("/audit/export/html?" + november) }, "text/html; charset=utf-8", wantHTML.String()},
		{"JSON download", func() response { return br.get("/audit/export/json?" + november) }, "application/json", string(wantJSON) + "\n"},
		{"CSV through the API", func() response {
			return b.api(token, http.MethodGet, "/v1/workspace/audit/report?format=csv&"+november, "")
		}, "text/csv; charset=utf-8", wantCSV.String()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.get()
			if got.status != http.StatusOK || got.header.Get("Content-Type") != tc.wantType {
				t.Fatalf("status %d, type %q", got.status, got.header.Get("Content-Type"))
			}
			if got.body != tc.want {
				t.Errorf("body differs from the command line's (-want +got):\n%s", cmp.Diff(tc.want, got.body))
			}
		})
	}
	html := br.get("/audit/export/html?" + november)
	if csp := html.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the report's own page is served with Content-Security-Policy %q; want it to load nothing", csp)
	}
	if d := br.get("/audit/export/csv?" + november).header.Get("Content-Disposition"); d != `attachment; filename="lantern-timeliness-2026-11-01-2026-11-30.csv"` {
		t.Errorf("CSV Content-Disposition = %q", d)
	}
}

func TestAuditReportPageShowsTheCurrentMonthFirst(t *testing.T) {
	b := setup(t)
	b.recordAudit(auditIncidents(t))
	br := b.signIn("auditor")
	home := br.get("/")
	if home.status != http.StatusSeeOther || home.location != "/audit" {
		t.Errorf("the auditor's start = %d %q, want 303 to /audit", home.status, home.location)
	}
	cases := []struct {
		name, query string
		want        []string
	}{
		{"the current month by default", "", []string{`value="2026-11-01"`, `value="2026-11-30"`, "1 November 2026",
			"66.7%", "4 of 6", "/audit/incidents/" + pt.IncidentID(3), "/audit/export/csv?from=2026-11-01&amp;to=2026-11-30"}},
		{"October", "?from=2026-10-01&to=2026-10-31", []string{`value="2026-10-01"`, "100.0%", "2 of 2",
			"/audit/export/json?from=2026-10-01&amp;to=2026-10-31"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := br.get("/audit" + tc.query)
			if r.status != http.StatusOK {
				t.Fatalf("status %d\n%s", r.status, r.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("the page does not show %q", w)
				}
			}
		})
	}
}

func TestEveryAuditReadIsRecorded(t *testing.T) {
	b := setup(t)
	b.recordAudit(auditIncidents(t))
	token := b.token("auditor")
	br := b.signIn("auditor")
	unknown := cloudevent.DeriveID("no such incident")
	cases := []struct {
		name string
		do   func() response
		want map[string]any
	}{
		{"the report page", func() response { return br.get("/audit") },
			map[string]any{"incident_id": events.NilIncidentID, "resource": "timeliness_report", "outcome": "allowed", "via": "page"}},
		{"a CSV download", func() response { return br.get("/audit/export/csv?" + november) },
			map[string]any{"incident_id": events.NilIncidentID, "resource": "timeliness_report", "outcome": "allowed", "via": "page"}},
		{"the report through the API", func() response {
			return b.api(token, http.MethodGet, "/v1/workspace/audit/report?"+november, "")
		}, map[string]any{"incident_id": events.NilIncidentID, "resource": "timeliness_report", "outcome": "allowed", "via": "api"}},
		{"a timeline page", func() response { return br.get("/audit/incidents/" + pt.IncidentID(3)) },
			map[string]any{"incident_id": pt.IncidentID(3), "resource": "incident_timeline", "outcome": "allowed", "via": "page"}},
		{"a timeline through the API", func() response {
			return b.api(token, http.MethodGet, "/v1/workspace/audit/incidents/"+pt.IncidentID(2)+"/timeline", "")
		}, map[string]any{"incident_id": pt.IncidentID(2), "resource": "incident_timeline", "outcome": "allowed", "via": "api"}},
		{"the timeline of an incident the ledger does not hold", func() response {
			return b.api(token, http.MethodGet, "/v1/workspace/audit/incidents/"+unknown+"/timeline", "")
		}, map[string]any{"incident_id": events.NilIncidentID, "resource": "incident_timeline", "outcome": "refused",
			"refusal": "not_found", "via": "api"}},
		{"the timeline of a malformed id", func() response { return br.get("/audit/incidents/not-an-id") },
			map[string]any{"incident_id": events.NilIncidentID, "resource": "incident_timeline", "outcome": "refused",
				"refusal": "not_found", "via": "page"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.recordsOneAccess(t, tc.do, map[string]any{"user_id": "dev:auditor", "role": "auditor",
				"organisation": "", "purpose": "audit"}, tc.want)
			wantStatus := http.StatusOK
			if tc.want["outcome"] == "refused" {
				wantStatus = http.StatusNotFound
			}
			if r.status != wantStatus {
				t.Errorf("status %d, want %d", r.status, wantStatus)
			}
		})
	}
}

func TestAuditReportRefusesAPeriodThatIsNotRight(t *testing.T) {
	b := setup(t)
	token := b.token("auditor")
	br := b.signIn("auditor")
	// Signing in opens the report of the current month, which is recorded.
	before := len(b.accessData())
	cases := []struct {
		name, query string
		pointers    []string
	}{
		{"the last day before the first", "from=2026-11-30&to=2026-11-01", []string{"query:to"}},
		{"an impossible date", "from=2026-02-30&to=2026-03-01", []string{"query:from"}},
		{"one date only", "from=2026-11-01", []string{"query:to"}},
		{"more than a year", "from=2025-01-01&to=2026-01-02", []string{"query:to"}},
		{"an unknown format", "from=2026-11-01&to=2026-11-30&format=pdf", []string{"query:format"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.api(token, http.MethodGet, "/v1/workspace/audit/report?"+tc.query, "")
			var p struct {
				Errors []struct{ Pointer string } `json:"errors"`
			}
			decode(t, r, &p)
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Pointer)
			}
			if r.status != http.StatusBadRequest || !cmp.Equal(tc.pointers, got) {
				t.Errorf("status %d, pointers %v; want 400 naming %v", r.status, got, tc.pointers)
			}
		})
	}
	page := br.get("/audit?from=2026-11-30&to=2026-11-01")
	if page.status != http.StatusBadRequest || !strings.Contains(page.body, "The last day must not be before the first") ||
		!strings.Contains(page.body, `href="#field-to"`) {
		t.Errorf("page with a wrong period: %d\n%s", page.status, page.body)
	}
	for _, d := range b.accessData()[before:] {
		if d["resource"] == "timeliness_report" {
			t.Errorf("a report that was not shown was recorded as read: %v", d)
		}
	}
}

func TestAuditTimelineIsTheLedgersAndShowsNoNames(t *testing.T) {
	b := setup(t)
	_, _, c, _ := auditIncidents(t)
	b.recordAudit(c)
	med := medway()
	b.recordArea(med, med.notices(t))
	token := b.token("auditor")
	br := b.signIn("auditor")

	for _, id := range []string{c.ID, med.incidentID} {
		want, err := projection.IncidentTimeline(context.Background(), b.pool, id)
		if err != nil {
			t.Fatalf("the ledger's timeline: %v", err)
		}
		wantJSON, _ := json.Marshal(want)
		r := b.api(token, http.MethodGet, "/v1/workspace/audit/incidents/"+id+"/timeline", "")
		if r.status != http.StatusOK {
			t.Fatalf("timeline: %d %s", r.status, r.body)
		}
		// The workspace reads the audit rows, not the ledger's entries, so
		// it has each step's event id but not its sequence number.
		if diff := cmp.Diff(jsonValue(t, wantJSON, "seq"), jsonValue(t, []byte(r.body))); diff != "" {
			t.Errorf("timeline differs from the ledger's (-want +got):\n%s", diff)
		}
		page := br.get("/audit/incidents/" + id)
		for _, shown := range []string{r.body, page.body} {
			for _, name := range append([]string{"Test Child", "Test Victim", "KNT-TEST"}, med.markers...) {
				if strings.Contains(shown, name) {
					t.Errorf("the timeline of %s shows %q, which the audit record must not hold", id, name)
				}
			}
		}
	}
	page := br.get("/audit/incidents/" + c.ID)
	for _, w := range []string{"Child C-1", "Medway Council MASH", "Chatham Hill Primary School", "Breached", "Met",
		"Deadline breached", "Thu 12 Nov 2026, 09:00"} {
		if !strings.Contains(page.body, w) {
			t.Errorf("the timeline page does not show %q", w)
		}
	}
	lookup := br.get("/audit/incidents?id=" + c.ID)
	if lookup.status != http.StatusSeeOther || lookup.location != "/audit/incidents/"+c.ID {
		t.Errorf("looking an incident up = %d %q", lookup.status, lookup.location)
	}
}

func TestAuditPagesBeforeTheLedgerHasStarted(t *testing.T) {
	b := setup(t)
	br := b.signIn("auditor")
	if _, err := b.pool.Exec(context.Background(), `DROP SCHEMA audit CASCADE`); err != nil {
		t.Fatal(err)
	}
	r := b.api(b.token("auditor"), http.MethodGet, "/v1/workspace/audit/report", "")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "ledger service") {
		t.Errorf("report with no audit schema: %d %s", r.status, r.body)
	}
	page := br.get("/audit/incidents/" + pt.IncidentID(1))
	if page.status != http.StatusServiceUnavailable || !strings.Contains(page.body, "ledger service") {
		t.Errorf("timeline page with no audit schema: %d", page.status)
	}
}

package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/pkg/oidctest"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/api"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/ledger"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC)

const (
	allForces = "token-for-every-force"
	kent      = "token-for-kent"
	essex     = "token-for-essex"
)

type server struct {
	url  string
	pool *pgxpool.Pool
	id   string
	// auditor, worker and auditorID are tokens from the identity
	// provider: an auditor's access token, a MASH worker's, and the
	// auditor's ID token.
	auditor, worker, auditorID string
}

// newServer serves the API over a ledger holding one Kent incident, with
// a school notice acknowledged late.
func newServer(t *testing.T) server {
	_, pool := pt.NewDatabase(t)
	l := ledger.New(pool, sealedtest.New(t, pool), clock.NewFake(t0), zaptest.NewLogger(t))
	in := pt.NewIncident(t, pt.IncidentID(7)).Reported(t0, "high", false, pt.Child{ID: "C-1"}).
		Requested(pt.Request{NotificationID: pt.NotificationID(7, 1), RuleID: "R8", Kind: events.KindSchool,
			RecipientID: "118234", RecipientName: "Example Primary", ChildIDs: []string{"C-1"}, At: t0, Due: t0.Add(time.Hour)}).
		Delivered(pt.NotificationID(7, 1), t0.Add(time.Minute)).
		Acknowledged(pt.NotificationID(7, 1), "dsl-1", t0.Add(2*time.Hour))
	for _, p := range in.Events() {
		if err := l.Handle(context.Background(), p.Event); err != nil {
			t.Fatal(err)
		}
	}
	tokens := policeauth.Tokens{policeauth.Hash(allForces): policeauth.AnyForce, policeauth.Hash(kent): "KENT",
		policeauth.Hash(essex): "ESSEX"}
	// The provider's tokens are issued at the real time, so the issuer
	// judges them by the real clock; the API's own clock stays at t0.
	idp := oidctest.Start(t, oidctest.Options{ClientID: "lantern-workspace", Audience: "lantern-api", Users: []oidctest.User{
		{Subject: "aud-1", Name: "Ann Auditor", Claims: map[string]any{"roles": []any{"auditor"}}},
		{Subject: "mash-1", Name: "Mo Worker", Claims: map[string]any{"roles": []any{"mash_worker"}, "org": "mash:E06000035"}},
	}})
	auditors := api.Auditors{Issuer: oidcauth.New(oidcauth.Options{Issuer: idp.Issuer(), Audience: "lantern-api",
		Claims: oidcauth.ClaimNames{Role: "roles"}, Clock: clock.System})}
	a := &api.API{Ledger: l, Police: api.PoliceTokens{Tokens: tokens}, Auditors: auditors, Recorder: auditlog.DBRecorder{DB: pool},
		Clock: clock.NewFake(t0.Add(48 * time.Hour)), Log: zaptest.NewLogger(t)}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	s := server{url: srv.URL, pool: pool, id: in.ID}
	s.auditor, s.auditorID = idp.Tokens(t, "aud-1")
	s.worker, _ = idp.Tokens(t, "mash-1")
	return s
}

func (s server) get(t *testing.T, path, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestAccess(t *testing.T) {
	s := newServer(t)
	report := "/v1/audit/report?from=2026-11-01&to=2026-11-30&format=json"
	cases := []struct {
		name, path, token string
		want              int
	}{
		{"timeline without a token", "/v1/incidents/" + s.id + "/timeline", "", 401},
		{"timeline of the force's own incident", "/v1/incidents/" + s.id + "/timeline", kent, 200},
		{"timeline of another force's incident", "/v1/incidents/" + s.id + "/timeline", essex, 404},
		{"audit timeline without a token", "/v1/audit/incidents/" + s.id + "/timeline", "", 401},
		{"audit timeline with the force's own police credential", "/v1/audit/incidents/" + s.id + "/timeline", kent, 401},
		{"audit timeline with the police credential for every force", "/v1/audit/incidents/" + s.id + "/timeline", allForces, 401},
		{"audit timeline for a MASH worker", "/v1/audit/incidents/" + s.id + "/timeline", s.worker, 403},
		{"audit timeline with the auditor's ID token", "/v1/audit/incidents/" + s.id + "/timeline", s.auditorID, 401},
		{"audit timeline of an unknown incident", "/v1/audit/incidents/" + pt.IncidentID(8) + "/timeline", s.auditor, 404},
		{"audit timeline", "/v1/audit/incidents/" + s.id + "/timeline", s.auditor, 200},
		{"timeline with an auditor's token", "/v1/incidents/" + s.id + "/timeline", s.auditor, 401},
		{"report without a token", report, "", 401},
		{"report with the police credential for every force", report, allForces, 401},
		{"report for a MASH worker", report, s.worker, 403},
		{"report with the auditor's ID token", report, s.auditorID, 401},
		{"report", report, s.auditor, 200},
		{"report with a bad date", "/v1/audit/report?from=2026-11-31&to=2026-11-30", s.auditor, 400},
		{"report with an unknown format", "/v1/audit/report?from=2026-11-01&to=2026-11-30&format=pdf", s.auditor, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := s.get(t, tc.path, tc.token)
			if res.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %s", res.StatusCode, tc.want, body)
			}
		})
	}
	var recorded int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM ledger.consultations`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != 3 {
		t.Errorf("consultations recorded = %d, want 3 (one per read that returned data)", recorded)
	}
}

func TestAuditTimelineGroupsByChild(t *testing.T) {
	s := newServer(t)
	res, body := s.get(t, "/v1/audit/incidents/"+s.id+"/timeline", s.auditor)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var tl projection.Timeline
	if err := json.Unmarshal([]byte(body), &tl); err != nil {
		t.Fatal(err)
	}
	if len(tl.Children) != 1 || len(tl.Children[0].Notifications) != 1 {
		t.Fatalf("children = %+v, want C-1 with one notification", tl.Children)
	}
	n := tl.Children[0].Notifications[0]
	got := []any{tl.Children[0].ChildID, n.RuleID, n.WatchedStep, n.Outcome, n.Acknowledged.OnTime, len(tl.Steps)}
	if diff := cmp.Diff([]any{"C-1", "R8", "acknowledgement", "late", false, 4}, got); diff != "" {
		t.Errorf("child, rule, step, outcome, on time, steps (-want +got):\n%s", diff)
	}
}

func TestReportFormats(t *testing.T) {
	s := newServer(t)
	cases := []struct{ format, wantType, wantStart string }{
		{"json", "application/json", "{"},
		{"csv", "text/csv; charset=utf-8", "record,theme"},
		{"html", "text/html; charset=utf-8", "<!DOCTYPE html>"},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			res, body := s.get(t, "/v1/audit/report?from=2026-11-01&to=2026-11-30&format="+tc.format, s.auditor)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != tc.wantType || !strings.HasPrefix(body, tc.wantStart) {
				t.Errorf("status %d, type %q, body starts %q", res.StatusCode, res.Header.Get("Content-Type"), body[:min(len(body), 40)])
			}
			if csp := res.Header.Get("Content-Security-Policy"); tc.format == "html" && !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("HTML report served with Content-Security-Policy %q; want it to load nothing", csp)
			}
		})
	}
	res, body := s.get(t, "/v1/audit/report?from=2026-11-01&to=2026-11-30", s.auditor)
	var rep struct {
		Totals struct{ Notifications, OnTime, Breaches int }
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d: %v", res.StatusCode, err)
	}
	if rep.Totals.Notifications != 1 || rep.Totals.OnTime != 0 || rep.Totals.Breaches != 1 {
		t.Errorf("totals = %+v, want 1 notice, 0 on time, 1 breach", rep.Totals)
	}
}

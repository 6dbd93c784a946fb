// Package api serves the ledger's read endpoints: the incident timeline of
// contract v1 (GET /v1/incidents/{id}/timeline) and, for auditors, the
// incident timeline grouped by child (GET /v1/audit/incidents/{id}/timeline)
// and the JTAI timeliness report (GET /v1/audit/report). The first takes a
// police force's intake credential; the audit routes take an auditor's
// access token from the identity provider. Every read is recorded as a
// consultation before anything is sent.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/httpjson"
	"github.com/lantern-safeguarding/lantern/pkg/problem"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/ledger"
)

// API serves the ledger's read endpoints.
type API struct {
	Ledger *ledger.Ledger
	// Police authenticates the contract's timeline route; Auditors the
	// audit routes.
	Police, Auditors Authorizer
	// Recorder keeps the consultation record of every read.
	Recorder auditlog.Recorder
	Clock    clock.Clock
	Log      *zap.Logger
}

// Timeline is the response of GET /v1/incidents/{id}/timeline.
type Timeline struct {
	IncidentID string        `json:"incident_id"`
	Steps      []ledger.Step `json:"steps"`
}

// Handler returns the routes.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/incidents/{id}/timeline", a.timeline)
	mux.HandleFunc("GET /v1/audit/incidents/{id}/timeline", a.auditTimeline)
	mux.HandleFunc("GET /v1/audit/report", a.report)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

// incidentReader authenticates the caller and checks they may read the
// incident's history; an incident they may not read is reported as not
// found, so that its existence is not disclosed.
func (a *API) incidentReader(w http.ResponseWriter, r *http.Request, auth Authorizer) (Principal, string, bool) {
	who, ok := a.authenticate(w, r, auth)
	if !ok {
		return nil, "", false
	}
	id := r.PathValue("id")
	force, err := a.Ledger.IncidentForce(r.Context(), id)
	if errors.Is(err, ledger.ErrNotFound) || (err == nil && !who.MayReadIncident(force)) {
		problem.Write(w, r, problem.NotFound)
		return nil, "", false
	}
	if err != nil {
		a.unavailable(w, r, "looking up incident", err)
		return nil, "", false
	}
	return who, id, true
}

func (a *API) timeline(w http.ResponseWriter, r *http.Request) {
	who, id, ok := a.incidentReader(w, r, a.Police)
	if !ok || !a.record(w, r, who, "timeline", id) {
		return
	}
	steps, err := a.Ledger.Timeline(r.Context(), id)
	if err != nil {
		a.unavailable(w, r, "reading timeline", err)
		return
	}
	_ = httpjson.Write(w, http.StatusOK, Timeline{IncidentID: id, Steps: steps})
}

func (a *API) auditTimeline(w http.ResponseWriter, r *http.Request) {
	who, id, ok := a.incidentReader(w, r, a.Auditors)
	if !ok || !a.record(w, r, who, "audit_timeline", id) {
		return
	}
	tl, err := a.Ledger.AuditTimeline(r.Context(), id)
	if err != nil {
		a.unavailable(w, r, "reading audit timeline", err)
		return
	}
	_ = httpjson.Write(w, http.StatusOK, tl)
}

// authenticate answers 401 for a missing or refused credential, 403 for a
// signed-in person who is not an auditor, and 503 when the credential
// could not be checked (the identity provider unreachable).
func (a *API) authenticate(w http.ResponseWriter, r *http.Request, auth Authorizer) (Principal, bool) {
	who, err := auth.Authenticate(r)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="lantern"`)
		problem.Write(w, r, problem.Unauthorized)
		return nil, false
	case errors.Is(err, ErrNotAuditor):
		problem.Write(w, r, problem.Forbidden)
		return nil, false
	case err != nil:
		a.unavailable(w, r, "checking the credential", err)
		return nil, false
	}
	return who, true
}

// record keeps the consultation before any data is sent; if it cannot be
// kept, nothing is sent.
func (a *API) record(w http.ResponseWriter, r *http.Request, who Principal, action, subject string) bool {
	err := a.Recorder.RecordConsultation(r.Context(), auditlog.Consultation{At: a.Clock.Now(), Actor: who.ID(),
		Action: action, Subject: subject, Purpose: purposeOf(r)})
	if err != nil {
		a.unavailable(w, r, "recording consultation", err)
		return false
	}
	return true
}

// purposeOf is the purpose the caller stated (?purpose=), or the route's.
func purposeOf(r *http.Request) string {
	if p := r.URL.Query().Get("purpose"); p != "" && len(p) <= 200 {
		return p
	}
	return "audit"
}

func (a *API) unavailable(w http.ResponseWriter, r *http.Request, doing string, err error) {
	if !errors.Is(err, context.Canceled) {
		a.Log.Error(doing+" failed", zap.Error(err))
	}
	problem.Write(w, r, problem.New(http.StatusServiceUnavailable, "unavailable", "Service unavailable",
		"The audit record could not be read; try again."))
}

func jsonEncode(b *bytes.Buffer, v any) error { return json.NewEncoder(b).Encode(v) }

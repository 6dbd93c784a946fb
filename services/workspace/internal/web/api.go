package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/httpjson"
	"github.com/lantern-safeguarding/lantern/pkg/problem"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/signin"
	"time"
)

// APIPrefix is where the JSON API lives.
const APIPrefix = "/v1/workspace"

// maxBody bounds a request body; a triage decision is small.
const maxBody = 16 << 10

// apiHandler serves one API request of an authenticated caller.
type apiHandler func(http.ResponseWriter, *http.Request, casework.Caller)

func (s *Server) apiRoutes(mux *http.ServeMux) {
	api := func(pattern string, h apiHandler) { mux.Handle(pattern, s.bearer(h)) }
	api("GET "+APIPrefix+"/me", s.apiMe)
	api("GET "+APIPrefix+"/notices", listed(s, "notices", s.cases.Inbox, summaryOf))
	api("GET "+APIPrefix+"/notices/{id}", byID(s, s.cases.Notice, noticeOf))
	api("POST "+APIPrefix+"/notices/{id}/acknowledge", s.apiAcknowledge)
	api("GET "+APIPrefix+"/notices/{id}/record", byID(s, s.cases.Record, noticeOf))
	api("GET "+APIPrefix+"/mash/queue", listed(s, "queue", s.cases.Queue, queueItemOf))
	api("GET "+APIPrefix+"/mash/incidents/{id}", byID(s, s.cases.Incident, incidentOf))
	api("POST "+APIPrefix+"/mash/incidents/{id}/claim", s.apiClaim)
	api("POST "+APIPrefix+"/mash/incidents/{id}/release", s.apiRelease)
	api("POST "+APIPrefix+"/mash/incidents/{id}/triage", s.apiTriage)
	api("GET "+APIPrefix+"/overview", s.apiOverview)
	api("GET "+APIPrefix+"/audit/report", s.apiAuditReport)
	api("GET "+APIPrefix+"/audit/incidents/{id}/timeline", s.apiAuditTimeline)
	mux.HandleFunc(APIPrefix+"/", func(w http.ResponseWriter, r *http.Request) { problem.Write(w, r, problem.NotFound) })
}

// bearer authenticates an API request by its bearer token.
func (s *Server) bearer(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.auth.Bearer(r)
		if err != nil {
			if !errors.Is(err, signin.ErrNoToken) && !errors.Is(err, signin.ErrBadToken) {
				s.log.Warn("bearer authentication failed", zap.Error(err))
				problem.Write(w, r, problem.Unavailable)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="lantern"`)
			problem.Write(w, r, problem.Unauthorized)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, casework.Caller{User: u, Via: events.AccessViaAPI})
	})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	if err := httpjson.Write(w, status, v); err != nil {
		s.log.Warn("writing response", zap.Error(err))
	}
}

// apiError answers with the problem an operation's error calls for.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	var conflict *casework.ConflictError
	var invalid *casework.InvalidError
	switch status := statusOf(err); status {
	case http.StatusForbidden:
		problem.Write(w, r, problem.Forbidden)
	case http.StatusNotFound:
		problem.Write(w, r, problem.NotFound)
	case http.StatusServiceUnavailable:
		detail := "The access could not be recorded, so nothing is shown. Try again shortly."
		if errors.Is(err, casework.ErrAuditUnavailable) {
			detail = "The audit record cannot be read yet: the ledger service has not created it. Try again shortly."
		}
		s.log.Error("read refused", zap.Error(err))
		w.Header().Set("Retry-After", "5")
		problem.Write(w, r, problem.New(status, "unavailable", "Service unavailable", detail))
	case http.StatusConflict:
		errors.As(err, &conflict)
		problem.Write(w, r, problem.New(status, "conflict", "Conflict", conflict.Reason))
	case http.StatusUnprocessableEntity:
		errors.As(err, &invalid)
		fields := make([]problem.FieldError, 0, len(invalid.Fields))
		for _, f := range invalid.Fields {
			fields = append(fields, problem.FieldError{Pointer: f.Pointer, Detail: f.Detail})
		}
		problem.Write(w, r, problem.New(status, "invalid", "Invalid request", "Correct the fields listed.", fields...))
	default:
		s.log.Error("request failed", zap.String("path", r.Pattern), zap.Error(err))
		problem.Write(w, r, problem.Internal)
	}
}

// reply answers with body as JSON with status once the operation behind
// it succeeded, and otherwise with the problem its error calls for.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, err error, status int, body func() any) {
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writeJSON(w, status, body())
}

// createdStatus is 201 when the request did the action, 200 when it had
// been done already and the request only repeated it.
func createdStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

// listOf shows each view as at now.
func listOf[V, B any](views []V, now time.Time, show func(V, time.Time) B) []B {
	out := make([]B, 0, len(views))
	for _, v := range views {
		out = append(out, show(v, now))
	}
	return out
}

// listed serves the caller's list from list under key, each item shown
// as at now.
func listed[V, B any](s *Server, key string, list func(context.Context, casework.Caller) ([]V, error), show func(V, time.Time) B) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c casework.Caller) {
		views, err := list(r.Context(), c)
		s.reply(w, r, err, http.StatusOK, func() any { return map[string]any{key: listOf(views, s.cases.Clock().Now(), show)} })
	}
}

// byID serves the one view get finds by the path's id, shown as at now.
func byID[V, B any](s *Server, get func(context.Context, casework.Caller, string) (V, error), show func(V, time.Time) B) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c casework.Caller) {
		v, err := get(r.Context(), c, r.PathValue("id"))
		s.reply(w, r, err, http.StatusOK, func() any { return show(v, s.cases.Clock().Now()) })
	}
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, c casework.Caller) {
	err := s.cases.Account(r.Context(), c)
	s.reply(w, r, err, http.StatusOK, func() any { return meOf(c.User) })
}

func (s *Server) apiAcknowledge(w http.ResponseWriter, r *http.Request, c casework.Caller) {
	ack, created, err := s.cases.Acknowledge(r.Context(), c, r.PathValue("id"))
	s.reply(w, r, err, createdStatus(created), func() any { return ackOf(&ack) })
}

func (s *Server) apiClaim(w http.ResponseWriter, r *http.Request, c casework.Caller) {
	claim, err := s.cases.Claim(r.Context(), c, r.PathValue("id"))
	s.reply(w, r, err, http.StatusOK, func() any { return claimOf(&claim) })
}

func (s *Server) apiRelease(w http.ResponseWriter, r *http.Request, c casework.Caller) {
	if err := s.cases.Release(r.Context(), c, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// triageRequest is the body of a triage decision.
type triageRequest struct {
	RAG       string `json:"rag"`
	RAGReason string `json:"rag_reason,omitempty"`
	Decision  string `json:"decision"`
}

func (s *Server) apiTriage(w http.ResponseWriter, r *http.Request, c casework.Caller) {
	if err := s.cases.Permit(r.Context(), c, authz.Triage); err != nil {
		s.apiError(w, r, err)
		return
	}
	in, p, ok := readTriage(r)
	if !ok {
		problem.Write(w, r, p)
		return
	}
	d, created, err := s.cases.Triage(r.Context(), c, r.PathValue("id"), casework.TriageInput(in))
	s.reply(w, r, err, createdStatus(created), func() any { return decisionOf(&d) })
}

// readTriage reads a JSON body strictly: one object, known fields only.
func readTriage(r *http.Request) (triageRequest, problem.Details, bool) {
	var in triageRequest
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return in, problem.New(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"Send the decision as application/json."), false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return in, problem.New(http.StatusRequestEntityTooLarge, "too-large", "Request too large",
			fmt.Sprintf("A decision is at most %d bytes.", maxBody)), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		return in, problem.New(http.StatusBadRequest, "malformed", "Malformed request",
			"The body must be one JSON object with the fields rag, decision and, when needed, rag_reason."), false
	}
	return in, problem.Details{}, true
}

func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request, c casework.Caller) {
	counts, err := s.cases.Overview(r.Context(), c)
	s.reply(w, r, err, http.StatusOK, func() any { return overviewOf(counts) })
}

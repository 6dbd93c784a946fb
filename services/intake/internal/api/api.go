// Package api is the police intake HTTP API of contract.md section 1:
// POST /v1/incidents and GET /v1/incidents/{id}. Every error is an RFC 9457
// problem, and nothing is answered 202 unless it has been stored durably.
package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/faults"
	"github.com/lantern-safeguarding/lantern/pkg/httpjson"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/problem"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/store"
)

// MaxBody is the largest notice accepted (contract: 256 KiB).
const MaxBody = 256 << 10

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// Incidents is the store the API needs.
type Incidents interface {
	Accept(ctx context.Context, sub store.Submission) (store.Accepted, error)
	Get(ctx context.Context, id string) (store.Record, error)
	RecordAccess(ctx context.Context, a events.AccessRecordedData) error
}

// API serves the intake endpoints.
type API struct {
	Incidents    Incidents
	Reference    func() ppn.Reference
	Tokens       policeauth.Tokens
	Clock        clock.Clock
	StoreTimeout time.Duration
	Log          *zap.Logger
	// Limits bound each credential's requests and each address's failed
	// ones; without them nothing is limited.
	Limits Limits
}

// Limits are the intake API's rate limits.
type Limits struct {
	// PerCredential bounds each police credential, so that a runaway or
	// stolen one cannot swamp the pipeline.
	PerCredential *ratelimit.Limiter
	// Unauthenticated bounds each client address's requests that carry
	// no valid credential, so that tokens cannot be tried at speed.
	Unauthenticated *ratelimit.Limiter
	// Proxies are the addresses whose X-Forwarded-For is believed.
	Proxies ratelimit.Proxies
}

// authenticate returns the request's credential, or answers 401, or 429
// when the credential, or the address of a client without one, is over
// its limit.
func (a *API) authenticate(w http.ResponseWriter, r *http.Request) (policeauth.Credential, bool) {
	cred, ok := a.Tokens.Authenticate(r)
	limiter, key := a.Limits.PerCredential, cred.ID
	if !ok {
		limiter, key = a.Limits.Unauthenticated, a.Limits.Proxies.ClientAddress(r)
	}
	if limiter != nil {
		if allowed, wait := limiter.Allow(key); !allowed {
			ratelimit.TooMany(w, r, wait)
			return policeauth.Credential{}, false
		}
	}
	if !ok {
		problem.Write(w, r, problem.Unauthorized)
	}
	return cred, ok
}

// Handler returns the routes.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/incidents", a.postIncident)
	mux.HandleFunc("GET /v1/incidents/{id}", a.getIncident)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *API) postIncident(w http.ResponseWriter, r *http.Request) {
	cred, ok := a.authenticate(w, r)
	if !ok {
		return
	}
	if p, bad := checkContentType(r); bad {
		problem.Write(w, r, p)
		return
	}
	key, p, bad := idempotencyKey(r)
	if bad {
		problem.Write(w, r, p)
		return
	}
	body, p, bad := readBody(w, r)
	if bad {
		problem.Write(w, r, p)
		return
	}
	in, p, bad := a.decodeAndValidate(body)
	if bad {
		problem.Write(w, r, p)
		return
	}
	if !cred.MayActFor(in.ForceCode) {
		problem.Write(w, r, problem.New(http.StatusForbidden, "forbidden", "Forbidden",
			"This credential may not submit notices for this force.", problem.FieldError{Pointer: "/force_code", Detail: "not a force this credential acts for"}))
		return
	}
	a.accept(w, r, in, key)
}

func (a *API) accept(w http.ResponseWriter, r *http.Request, in *ppn.Incident, key string) {
	ctx, cancel := context.WithTimeout(r.Context(), a.StoreTimeout)
	defer cancel()
	res, err := a.Incidents.Accept(ctx, store.Submission{Incident: in, ContentHash: in.ContentHash(),
		IdempotencyKey: key, ReceivedAt: a.Clock.Now().UTC()})
	switch {
	case errors.Is(err, store.ErrConflict):
		problem.Write(w, r, problem.New(http.StatusConflict, "conflict", "Conflicting repeat",
			"A different notice was already accepted with this police reference or Idempotency-Key; updates are a separate event."))
		return
	case errors.Is(err, store.ErrOutcomeUnknown):
		a.Log.Error("storing incident: commit not answered", zap.Error(err))
		problem.Write(w, r, outcomeUnknown)
		return
	case err != nil:
		a.Log.Error("storing incident failed", zap.Error(err))
		problem.Write(w, r, problem.Unavailable)
		return
	}
	faults.Crash(faults.IntakeAfterCommit)
	status := http.StatusOK
	if res.New {
		status = http.StatusAccepted
		a.Log.Info("incident accepted", zap.String("incident_id", res.IncidentID))
	}
	w.Header().Set("Location", "/v1/incidents/"+res.IncidentID)
	_ = httpjson.Write(w, status, map[string]string{"incident_id": res.IncidentID, "status": "accepted"})
}

// outcomeUnknown answers a notice whose commit went unanswered. It may be
// stored, so the sender must not be told that nothing was accepted; a
// repeat learns the outcome, answered 200 with the stored incident or
// accepted afresh.
var outcomeUnknown = problem.New(http.StatusServiceUnavailable, "outcome-unknown", "Outcome unknown",
	"The notice may or may not have been stored. Retry with the same body and Idempotency-Key to learn which.")

func (a *API) decodeAndValidate(body []byte) (*ppn.Incident, problem.Details, bool) {
	in, err := ppn.Decode(body)
	if err == nil {
		err = in.Validate(a.Reference(), a.Clock.Now())
	}
	if err == nil {
		return in, problem.Details{}, false
	}
	var perr *ppn.Error
	if !errors.As(err, &perr) {
		return nil, problem.New(http.StatusBadRequest, "invalid-notice", "Invalid notice", err.Error()), true
	}
	fields := make([]problem.FieldError, len(perr.Problems))
	for i, fp := range perr.Problems {
		fields[i] = problem.FieldError{Pointer: fp.Pointer, Detail: fp.Detail}
	}
	slug := "malformed-json"
	if perr.Status == http.StatusUnprocessableEntity {
		slug = "invalid-notice"
	}
	return nil, problem.New(perr.Status, slug, perr.Title, "", fields...), true
}

func checkContentType(r *http.Request) (problem.Details, bool) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mt == "application/json" {
		if cs, has := params["charset"]; !has || strings.EqualFold(cs, "utf-8") {
			if enc := r.Header.Get("Content-Encoding"); enc == "" || enc == "identity" {
				return problem.Details{}, false
			}
		}
	}
	return problem.New(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
		"Send the notice as uncompressed application/json in UTF-8.",
		problem.FieldError{Pointer: "header:Content-Type", Detail: "must be application/json"}), true
}

func idempotencyKey(r *http.Request) (string, problem.Details, bool) {
	key := r.Header.Get("Idempotency-Key")
	// RFC draft form is a structured-field string: accept it quoted or bare.
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", badKey("must be printable ASCII without spaces"), true
		}
	}
	if len(key) > maxIdempotencyKey {
		return "", badKey("must be at most 255 characters"), true
	}
	return key, problem.Details{}, false
}

func badKey(detail string) problem.Details {
	return problem.New(http.StatusBadRequest, "invalid-idempotency-key", "Invalid Idempotency-Key", "",
		problem.FieldError{Pointer: "header:Idempotency-Key", Detail: detail})
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, problem.Details, bool) {
	if r.ContentLength > MaxBody {
		return nil, tooLarge(), true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, tooLarge(), true
	}
	if err != nil {
		return nil, problem.New(http.StatusBadRequest, "unreadable-body", "Unreadable body", "The request body could not be read."), true
	}
	return body, problem.Details{}, false
}

func tooLarge() problem.Details {
	return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Notice too large", "A notice may be at most 256 KiB.")
}

func (a *API) getIncident(w http.ResponseWriter, r *http.Request) {
	cred, ok := a.authenticate(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.StoreTimeout)
	defer cancel()
	rec, err := a.Incidents.Get(ctx, r.PathValue("id"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.Log.Error("reading incident failed", zap.Error(err))
		problem.Write(w, r, problem.Unavailable)
		return
	}
	access := a.access(cred, rec, err)
	if err := a.Incidents.RecordAccess(ctx, access); err != nil {
		// A read that cannot be recorded does not happen.
		a.Log.Error("recording access failed", zap.Error(err))
		problem.Write(w, r, problem.Unavailable)
		return
	}
	if access.Outcome != events.AccessAllowed {
		// Another force's incident is reported as absent, so that a
		// credential cannot even learn which ids exist.
		problem.Write(w, r, problem.NotFound)
		return
	}
	_ = httpjson.Write(w, http.StatusOK, rec)
}

// access describes one read attempt for the audit record.
func (a *API) access(cred policeauth.Credential, rec store.Record, getErr error) events.AccessRecordedData {
	out := events.AccessRecordedData{UserID: cred.ID, Role: "police", Organisation: "police:" + cred.Force,
		Resource: "incident", Purpose: "police_record", Via: events.AccessViaAPI, At: a.Clock.Now().UTC(),
		IncidentID: rec.IncidentID, Outcome: events.AccessAllowed}
	switch {
	case errors.Is(getErr, store.ErrNotFound):
		out.IncidentID, out.Outcome, out.Refusal = events.NilIncidentID, events.AccessRefused, events.RefusalNotFound
	case !cred.MayActFor(rec.Incident.ForceCode):
		out.Outcome, out.Refusal = events.AccessRefused, events.RefusalOrganisation
	}
	return out
}

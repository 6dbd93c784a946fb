// Package problem writes RFC 9457 problem details, the one error format of
// every Lantern HTTP API. Each invalid field is named by a JSON pointer so
// that a sender's system can show its user exactly what to fix.
package problem

import (
	"net/http"

	"github.com/lantern-safeguarding/lantern/pkg/httpjson"
)

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// FieldError names one invalid part of a request.
type FieldError struct {
	// Pointer is an RFC 6901 JSON pointer into the request body, or a
	// header name prefixed with "header:" when a header is at fault.
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

// Details is an RFC 9457 problem document with Lantern's `errors` extension.
type Details struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// TypeBase prefixes Lantern's problem type URIs; each names a page in the
// API documentation.
const TypeBase = "https://lantern.example/problems/"

// New returns a problem of the given status with a type derived from slug.
func New(status int, slug, title, detail string, errs ...FieldError) Details {
	return Details{Type: TypeBase + slug, Title: title, Status: status, Detail: detail, Errors: errs}
}

// Write sends p as the response.
func Write(w http.ResponseWriter, r *http.Request, p Details) {
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
	}
	_ = httpjson.WriteAs(w, p.Status, ContentType, p)
}

// Common problems, shared so that every service words them alike.
var (
	NotFound     = New(http.StatusNotFound, "not-found", "Not found", "")
	Unauthorized = New(http.StatusUnauthorized, "unauthorized", "Authentication required", "Send a valid bearer token in the Authorization header.")
	Forbidden    = New(http.StatusForbidden, "forbidden", "Forbidden", "This credential may not perform this action.")
	Unavailable  = New(http.StatusServiceUnavailable, "unavailable", "Service unavailable", "The request could not be stored durably; nothing was accepted. Retry with the same body.")
	Internal     = New(http.StatusInternalServerError, "internal", "Internal error", "")
)

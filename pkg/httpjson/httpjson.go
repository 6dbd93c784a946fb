// Package httpjson writes JSON response bodies, the one way every Lantern
// HTTP API answers with one: the media type, no caching (the bodies carry
// case data or credentials), the status, then the document.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of an ordinary JSON body.
const ContentType = "application/json"

// Write sends v as JSON with status. The error is the encoder's; the
// status line has gone by then, so a caller can only log it.
func Write(w http.ResponseWriter, status int, v any) error {
	return WriteAs(w, status, ContentType, v)
}

// WriteAs is Write with another JSON media type, such as
// application/problem+json.
func WriteAs(w http.ResponseWriter, status int, contentType string, v any) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

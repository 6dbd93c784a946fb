package httpserver

import "net/http"

// StatusRecorder is a ResponseWriter that remembers the status code the
// handler wrote, 200 until it writes another, for middleware that reports
// it. Unwrap lets http.ResponseController (used by the reverse proxy to
// flush) reach the underlying writer.
type StatusRecorder struct {
	http.ResponseWriter
	// Status is the code written first.
	Status  int
	written bool
}

// NewStatusRecorder wraps w.
func NewStatusRecorder(w http.ResponseWriter) *StatusRecorder {
	return &StatusRecorder{ResponseWriter: w, Status: http.StatusOK}
}

// WriteHeader keeps the first code written: a later one is ignored by
// net/http, and so here.
func (s *StatusRecorder) WriteHeader(code int) {
	if !s.written {
		s.Status, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusRecorder) Write(b []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(b)
}

// Unwrap is the writer the recorder wraps.
func (s *StatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

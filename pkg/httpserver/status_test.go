package httpserver_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/httpserver"
)

func TestStatusRecorderKeepsTheFirstCodeWritten(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		write func(w http.ResponseWriter)
		want  int
	}{
		{"a body alone is 200", func(w http.ResponseWriter) { _, _ = w.Write([]byte("ok")) }, http.StatusOK},
		{"nothing written is 200", func(http.ResponseWriter) {}, http.StatusOK},
		{"the code written", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, http.StatusServiceUnavailable},
		{"a later code is ignored", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusNotFound},
		{"a code after the body is ignored", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("ok"))
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			under := httptest.NewRecorder()
			rec := httpserver.NewStatusRecorder(under)
			tc.write(rec)
			if rec.Status != tc.want || under.Code != tc.want {
				t.Errorf("recorded %d, sent %d; want %d", rec.Status, under.Code, tc.want)
			}
			if rec.Unwrap() != under {
				t.Error("Unwrap is not the wrapped writer")
			}
		})
	}
}

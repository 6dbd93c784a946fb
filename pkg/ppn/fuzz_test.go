package ppn_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// FuzzDecodeIncident feeds arbitrary bodies to the decoder (reliability
// plan B15). Whatever the body, Decode must not panic, every refusal must
// be an *ppn.Error of a 4xx class with valid JSON pointers, and a notice
// that is accepted must survive its canonical form unchanged. The seed
// corpus in testdata/fuzz/FuzzDecodeIncident holds the sample and the bad
// inputs of B2 to B12.
func FuzzDecodeIncident(f *testing.F) {
	f.Add([]byte(sample(f)))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := ppn.Decode(body)
		if err != nil {
			checkRefusal(t, body, err, http.StatusBadRequest, http.StatusUnprocessableEntity)
			return
		}
		if err := in.Validate(medway, now); err != nil {
			checkRefusal(t, body, err, http.StatusUnprocessableEntity)
			return
		}
		again, err := ppn.Decode(in.Canonical())
		if err != nil {
			t.Fatalf("the canonical form of an accepted notice is refused: %v\ncanonical: %s", err, in.Canonical())
		}
		if got, want := again.ContentHash(), in.ContentHash(); got != want {
			t.Errorf("hash after the canonical round trip = %s, want %s", got, want)
		}
	})
}

// checkRefusal asserts the invariants of every refusal.
func checkRefusal(t *testing.T, body []byte, err error, statuses ...int) {
	t.Helper()
	var perr *ppn.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v is a %T, want *ppn.Error", err, err)
	}
	if perr.Status == http.StatusRequestEntityTooLarge && len(body) > ppn.MaxBodyBytes {
		statuses = append(statuses, perr.Status)
	}
	if !slices.Contains(statuses, perr.Status) {
		t.Errorf("status %d, want one of %v: %v", perr.Status, statuses, err)
	}
	if len(perr.Problems) == 0 || len(perr.Problems) > ppn.MaxProblems {
		t.Errorf("%d problems, want 1 to %d: %v", len(perr.Problems), ppn.MaxProblems, err)
	}
	for _, p := range perr.Problems {
		if !validPointer(p.Pointer) {
			t.Errorf("pointer %q is not a valid RFC 6901 JSON pointer", p.Pointer)
		}
		if p.Detail == "" {
			t.Errorf("problem at %q has no detail", p.Pointer)
		}
	}
}

// validPointer reports whether p is an RFC 6901 JSON pointer: empty, or
// "/"-separated reference tokens in which "~" is always followed by 0 or 1.
func validPointer(p string) bool {
	if p == "" {
		return true
	}
	if !strings.HasPrefix(p, "/") || !utf8.ValidString(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '~' && (i+1 == len(p) || (p[i+1] != '0' && p[i+1] != '1')) {
			return false
		}
	}
	return true
}

func TestValidPointer(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"": true, "/": true, "/children/0/name": true, "/a~1b~0c": true, "/é": true,
		"children": false, "/a~": false, "/a~2": false, "/\xff": false,
	}
	for p, want := range cases {
		if got := validPointer(p); got != want {
			t.Errorf("validPointer(%q) = %v, want %v", p, got, want)
		}
	}
}

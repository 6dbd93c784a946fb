package ppn_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// now is the time the tests run "at": the morning after the sample
// incident.
var now = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

const samplePath = "testdata/sample-ppn.json"

// sample returns the contract's sample notice.
func sample(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatalf("reading %s: %v", samplePath, err)
	}
	return string(b)
}

// edit returns the sample with old replaced by replacement once. It fails
// the test when old is not in the sample, so a case cannot silently test
// the unchanged sample.
func edit(t testing.TB, old, replacement string) string {
	t.Helper()
	body := sample(t)
	if !strings.Contains(body, old) {
		t.Fatalf("the sample does not contain %q", old)
	}
	return strings.Replace(body, old, replacement, 1)
}

// authorities is reference data that knows a fixed set of local
// authorities.
type authorities map[string]bool

func (a authorities) KnownLocalAuthority(code string) bool { return a[code] }

var _ ppn.Reference = authorities(nil)

// medway knows the sample's local authority.
var medway = authorities{"E06000035": true}

// refusal is the part of an *Error a test asserts: the status and each
// problem's pointer, in order.
type refusal struct {
	Status   int
	Pointers []string
}

// refusalOf extracts a refusal from err, failing the test when err is not
// an *ppn.Error.
func refusalOf(t *testing.T, err error) refusal {
	t.Helper()
	if err == nil {
		return refusal{}
	}
	var perr *ppn.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v is a %T, want *ppn.Error", err, err)
	}
	got := refusal{Status: perr.Status}
	for _, p := range perr.Problems {
		got.Pointers = append(got.Pointers, p.Pointer)
	}
	return got
}

// notice is the sample as generic JSON, for cases easier to state as a
// change to the value than as a change to the text.
type notice map[string]any

func (n notice) adult(i int) map[string]any { return n["adults"].([]any)[i].(map[string]any) }

func (n notice) child(i int) map[string]any { return n["children"].([]any)[i].(map[string]any) }

// mutate returns the sample after change, re-encoded.
func mutate(t testing.TB, change func(notice)) string {
	t.Helper()
	var n notice
	if err := json.Unmarshal([]byte(sample(t)), &n); err != nil {
		t.Fatalf("parsing the sample: %v", err)
	}
	change(n)
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatalf("encoding the changed sample: %v", err)
	}
	return string(b)
}

func mustDecode(t *testing.T, body string) *ppn.Incident {
	t.Helper()
	in, err := ppn.Decode([]byte(body))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return in
}

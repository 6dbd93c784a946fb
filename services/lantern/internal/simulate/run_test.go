package simulate_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/simulate"
)

// intake is a stand-in for Lantern's intake API that applies the same
// decoding and rules, so that the test sees what the real one would
// refuse. refuse, when set, picks notices to answer 422 regardless.
type intake struct {
	t      *testing.T
	ref    *refdata.Set
	token  string
	refuse func(n int) bool

	mu         sync.Mutex
	references map[string]bool
	keys       map[string]bool
}

func startIntake(t *testing.T, token string, refuse func(int) bool) (*intake, string) {
	t.Helper()
	in := &intake{t: t, ref: shippedReference(t), token: token, refuse: refuse,
		references: map[string]bool{}, keys: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(srv.Close)
	return in, srv.URL
}

func (in *intake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/incidents" || r.Header.Get("Authorization") != "Bearer "+in.token ||
		r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Idempotency-Key") == "" {
		http.Error(w, "not as the contract says", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	notice, err := ppn.Decode(body)
	if err == nil {
		err = notice.Validate(knownAreas{in.ref}, time.Now())
	}
	if err != nil {
		in.t.Errorf("intake refused a generated notice: %v", err)
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	in.mu.Lock()
	n := len(in.references)
	in.references[notice.PoliceReference] = true
	in.keys[r.Header.Get("Idempotency-Key")] = true
	in.mu.Unlock()
	if in.refuse != nil && in.refuse(n) {
		http.Error(w, "refused", http.StatusUnprocessableEntity)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"incident_id":"incident-%d","status":"accepted"}`, n)
}

func (in *intake) received() (references, keys int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.references), len(in.keys)
}

func referenceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "reference")
}

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := simulate.NewCommand()
	command.Prepare(cmd)
	cmd.SetArgs(append([]string{"--reference-dir", referenceDir()}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestRunPostsABurstAndSummarises(t *testing.T) {
	in, url := startIntake(t, "police-token", nil)
	stdout, stderr, err := run(t, "--url", url, "--token", "police-token", "--burst", "60", "--concurrency", "8",
		"--start-time", "2026-11-23T07:00:00Z", "--run-tag", "burst1")
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	if refs, keys := in.received(); refs != 60 || keys != 60 {
		t.Errorf("intake saw %d police references and %d keys, want 60 of each", refs, keys)
	}
	for _, want := range []string{"sent 60 notices", "202 Accepted", "latency p50"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "simulate:") || !strings.Contains(stderr, "accepted 60") {
		t.Errorf("progress lacks the final count:\n%s", stderr)
	}
}

func TestRunReportsRefusals(t *testing.T) {
	_, url := startIntake(t, "tok", func(n int) bool { return n%3 == 0 })
	stdout, _, err := run(t, "--url", url, "--token", "tok", "--burst", "30", "--concurrency", "1",
		"--start-time", "2026-11-23T07:00:00Z", "--run-tag", "refusals")
	if err == nil || !strings.Contains(err.Error(), "10 of 30 notices were not accepted") {
		t.Errorf("Run error = %v, want 10 of 30 not accepted", err)
	}
	if !strings.Contains(stdout, "422 Unprocessable Entity") {
		t.Errorf("summary does not list the refusals:\n%s", stdout)
	}
}

func TestRunReadsTheTokenFromTheCredentialsFile(t *testing.T) {
	in, url := startIntake(t, "dev-police-abc", nil)
	creds := filepath.Join(t.TempDir(), "dev-credentials.json")
	if err := os.WriteFile(creds, []byte(`{"police_intake_token": "dev-police-abc"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := run(t, "--url", url, "--credentials", creds, "--burst", "3", "--start-time", "2026-11-23T07:00:00Z"); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	if refs, _ := in.received(); refs != 3 {
		t.Errorf("intake saw %d notices, want 3", refs)
	}
}

func TestRunPrintsTheFeed(t *testing.T) {
	stdout, _, err := run(t, "--print", "--count", "5", "--seed", "9", "--run-tag", "print")
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	scanner := bufio.NewScanner(strings.NewReader(stdout))
	scanner.Buffer(nil, ppn.MaxBodyBytes)
	for scanner.Scan() {
		in, err := ppn.Decode(scanner.Bytes())
		if err != nil {
			t.Fatalf("printed notice does not decode: %v", err)
		}
		refs = append(refs, in.PoliceReference)
	}
	want := []string{"SIM-print-0000001", "SIM-print-0000002", "SIM-print-0000003", "SIM-print-0000004", "SIM-print-0000005"}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Errorf("printed notices (-want +got):\n%s", diff)
	}
}

func TestRunStopsWhenHistoryReachesThePresent(t *testing.T) {
	_, url := startIntake(t, "tok", nil)
	start := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	_, _, err := run(t, "--url", url, "--token", "tok", "--rate", "0", "--count", "100000", "--start-time", start, "--per-day", "2000")
	if err == nil || !strings.Contains(err.Error(), "reached the present") {
		t.Errorf("Run error = %v, want the history to stop at the present", err)
	}
}

func TestRunRefusesBadCommandLines(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"print without a count", []string{"--print"}, "--print needs --count"},
		{"negative rate", []string{"--rate", "-1", "--token", "t"}, "must not be negative"},
		{"bad DASH shares", []string{"--dash", "severe=1", "--token", "t"}, "DASH share"},
		{"DASH shares not summing to one", []string{"--dash", "high=0.5", "--print", "--count", "1"}, "sum to 1"},
		{"bad start time", []string{"--start-time", "yesterday", "--token", "t"}, "--start-time"},
		{"no token", []string{"--credentials", "/nonexistent/creds.json", "--count", "1"}, "no police token"},
		{"stray argument", []string{"now"}, "takes no arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run(%q) = %v, want an error about %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestStatsQuantiles(t *testing.T) {
	results := make(chan simulate.Result, 100)
	for i := 1; i <= 100; i++ {
		results <- simulate.Result{Status: http.StatusAccepted, IncidentID: fmt.Sprint(i), Latency: time.Duration(i) * time.Millisecond}
	}
	close(results)
	stats, err := simulate.Drive(context.Background(), simulate.Plan{Count: 100, Concurrency: 4},
		func() (simulate.Notice, error) { return simulate.Notice{}, nil },
		func(context.Context, simulate.Notice) simulate.Result { return <-results }, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := []time.Duration{stats.Latency(0.5), stats.Latency(0.99), stats.Latency(1)}
	want := []time.Duration{50 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("quantiles (-want +got):\n%s", diff)
	}
	if stats.Sent() != 100 || stats.Status(http.StatusAccepted) != 100 || len(stats.IncidentIDs) != 100 {
		t.Errorf("stats counted %d sent, %d accepted, %d ids", stats.Sent(), stats.Status(http.StatusAccepted), len(stats.IncidentIDs))
	}
}

package chaos_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
)

func TestClassify(t *testing.T) {
	const unavailable = "https://lantern.example/problems/unavailable"
	cases := []struct {
		status  int
		problem string
		want    chaos.Verdict
	}{
		{202, "", chaos.Accepted},
		{200, "", chaos.Accepted},
		{400, "https://lantern.example/problems/malformed-json", chaos.Rejected},
		{409, "https://lantern.example/problems/conflict", chaos.Rejected},
		{422, "https://lantern.example/problems/invalid-notice", chaos.Rejected},
		{408, "", chaos.Refused},
		{429, "", chaos.Refused},
		{503, unavailable, chaos.Refused},
		{503, chaos.OutcomeUnknownProblem, chaos.Ambiguous},
		{502, chaos.OutcomeUnknownProblem, chaos.Ambiguous},
		{500, "https://lantern.example/problems/internal", chaos.Ambiguous},
		{504, "", chaos.Ambiguous},
		{0, "timeout", chaos.Ambiguous},
	}
	for _, c := range cases {
		if got := chaos.Classify(c.status, c.problem); got != c.want {
			t.Errorf("Classify(%d, %q) = %s, want %s", c.status, c.problem, got, c.want)
		}
	}
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func attempt(start float64, status int, took time.Duration) chaos.Attempt {
	return chaos.Attempt{Start: at(start), Status: status, Duration: took}
}

func problem(a chaos.Attempt, slug string) chaos.Attempt {
	a.Problem = "https://lantern.example/problems/" + slug
	return a
}

func sub(id string, outcome chaos.Outcome, attempts ...chaos.Attempt) *chaos.Submission {
	return &chaos.Submission{Ref: "ref-" + id, IncidentID: id, Outcome: outcome, Attempts: attempts}
}

func TestSummarise(t *testing.T) {
	ms := time.Millisecond
	subs := []*chaos.Submission{
		sub("a", chaos.OK, attempt(0, 202, 20*ms)),
		// Answer lost, then found stored: recovered by retry.
		sub("b", chaos.OK, problem(attempt(1, 503, 5*ms), "outcome-unknown"), attempt(2, 200, 10*ms)),
		// Told "not stored", then found stored: a false refusal.
		sub("c", chaos.OK, problem(attempt(1, 503, 5*ms), "unavailable"), attempt(2, 200, 10*ms)),
		// Refused, then accepted as new: a true refusal.
		sub("d", chaos.OK, attempt(1, 503, 5*ms), attempt(2, 202, 10*ms)),
		sub("e", chaos.Fail, attempt(3, 422, 5*ms)),
		sub("f", chaos.Unknown, attempt(3, 0, 9*time.Second), attempt(13, 500, ms)),
	}
	gotReq, gotErr := chaos.Summarise(subs, 5*time.Second)
	wantReq := chaos.Requests{Notices: 6, OK: 4, Fail: 1, Unknown: 1, Attempts: 10, RecoveredByRetry: 1, FalseRefusals: 1}
	if diff := cmp.Diff(wantReq, gotReq); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	wantErr := chaos.ErrorMix{ByStatus: map[string]int{"202": 2, "200": 2, "503 outcome-unknown": 1, "503 unavailable": 1,
		"503": 1, "422": 1, "500": 1, "no answer": 1},
		Client4xx: 1, Server5xx: 4, Status500: 1, NoAnswer: 1, Hung: 1, HangAfter: 5, Slowest: 9}
	if diff := cmp.Diff(wantErr, gotErr); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestDetect(t *testing.T) {
	w := chaos.Window{Start: at(10), End: at(20)}
	cases := []struct {
		name string
		subs []*chaos.Submission
		want *chaos.Seconds
	}{
		{"no failure", []*chaos.Submission{sub("a", chaos.OK, attempt(11, 202, time.Second))}, nil},
		{"failure before the fault", []*chaos.Submission{sub("a", chaos.OK, attempt(5, 503, time.Second), attempt(12, 202, 0))}, nil},
		{"first failure counts", []*chaos.Submission{
			sub("a", chaos.OK, attempt(14, 503, time.Second), attempt(16, 202, 0)),
			sub("b", chaos.OK, attempt(11, 0, 2*time.Second), attempt(14, 200, 0)),
		}, secs(3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, chaos.Detect(c.subs, w)); diff != "" {
				t.Errorf("Detect (-want +got):\n%s", diff)
			}
		})
	}
}

func secs(s float64) *chaos.Seconds {
	v := chaos.Seconds(s)
	return &v
}

func TestTimeline(t *testing.T) {
	w := chaos.Window{Start: at(10), End: at(20)}
	subs := []*chaos.Submission{
		sub("before", chaos.OK, attempt(1, 202, 0)),
		sub("during", chaos.OK, attempt(12, 503, 0), attempt(15, 202, 0)),
		sub("after", chaos.OK, attempt(30, 202, 0)),
		sub("lost-answer", chaos.Unknown, attempt(13, 0, 0)),
	}
	entries := []chaos.Recorded{
		{IncidentID: "before", At: at(1.5)},
		{IncidentID: "before", Delivered: true, At: at(2)},
		{IncidentID: "during", At: at(16)},
		{IncidentID: "during", Delivered: true, At: at(24)},
		{IncidentID: "during", Delivered: true, At: at(26)},
		{IncidentID: "after", Delivered: true, At: at(31)},
	}
	got := chaos.Timeline(subs, entries, w)
	want := chaos.Timings{
		Recover:           secs(4),
		Drain:             secs(6),
		LedgerDuringFault: 1,
		Latency: map[string]chaos.Latency{
			chaos.PhaseBefore: {N: 1, P50: 1, P99: 1, Max: 1},
			chaos.PhaseDuring: {N: 2, P50: 12, P99: 14, Max: 14},
			chaos.PhaseAfter:  {N: 1, P50: 1, P99: 1, Max: 1},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Timeline (-want +got):\n%s", diff)
	}
}

func TestSummary_NearestRank(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Second)
	}
	cases := []struct {
		name    string
		samples []time.Duration
		want    chaos.Latency
	}{
		{"none", nil, chaos.Latency{}},
		{"one", []time.Duration{3 * time.Second}, chaos.Latency{N: 1, P50: 3, P99: 3, Max: 3}},
		{"a hundred", samples, chaos.Latency{N: 100, P50: 50, P99: 99, Max: 100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, chaos.Summary(c.samples)); diff != "" {
				t.Errorf("Summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTallyLog(t *testing.T) {
	log := `{"level":"info","msg":"consuming","consumer":"router"}
{"level":"info","msg":"stream already held re-published events","duplicates":3}
not json: a stack trace line
{"level":"warn","msg":"relay interrupted; restarting","duplicates":7}
{"level":"info","msg":"stream already held re-published events","duplicates":2}
`
	got := chaos.TallyLog(log)
	if diff := cmp.Diff(chaos.LogTally{PubAckDuplicates: 5}, got); diff != "" {
		t.Errorf("TallyLog (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(chaos.LogTally{PubAckDuplicates: 2}, got.Minus(chaos.LogTally{PubAckDuplicates: 3})); diff != "" {
		t.Errorf("Minus (-want +got):\n%s", diff)
	}
}

func TestRedeliveries(t *testing.T) {
	cases := []struct {
		name        string
		before, now chaos.Deliveries
		want        int64
	}{
		{"none", chaos.Deliveries{Delivered: 10, Messages: 10}, chaos.Deliveries{Delivered: 30, Messages: 30}, 0},
		{"some", chaos.Deliveries{Delivered: 12, Messages: 10}, chaos.Deliveries{Delivered: 40, Messages: 30}, 8},
		{"forgotten by a crashed broker", chaos.Deliveries{Delivered: 12, Messages: 10}, chaos.Deliveries{Delivered: 25, Messages: 30}, -7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.now.Redeliveries(c.before); got != c.want {
				t.Errorf("Redeliveries = %d, want %d", got, c.want)
			}
		})
	}
}

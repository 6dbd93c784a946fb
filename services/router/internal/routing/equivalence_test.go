package routing_test

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/decisions.jsonl.gz from the router as it is")

// goldenFile holds every decision the router took over the property
// test's thousand incidents when the rule set was code, so that the rules
// written in the policy file are held to exactly the same decisions.
const goldenFile = "testdata/decisions.jsonl.gz"

// decisionRecord is what is compared of one decision: everything a
// recipient, the ledger or the escalation service sees of it.
type decisionRecord struct {
	Incident       int              `json:"n"`
	Phase          string           `json:"phase"`
	NotificationID string           `json:"notification_id"`
	RuleID         string           `json:"rule_id"`
	Recipient      events.Recipient `json:"recipient"`
	ChildIDs       []string         `json:"child_ids"`
	DueAt          time.Time        `json:"due_at"`
	Calendar       string           `json:"calendar"`
	Profile        string           `json:"profile"`
	LawfulBasis    string           `json:"lawful_basis"`
	Purpose        string           `json:"purpose"`
	Repeat         bool             `json:"repeat"`
	Flags          []string         `json:"flags"`
	Notice         json.RawMessage  `json:"notice"`
	SendBy         time.Time        `json:"send_by"`
}

// caseRecord is what the router keeps of each incident for its triage.
type caseRecord struct {
	Incident       int                    `json:"n"`
	DefaultRAG     string                 `json:"default_rag"`
	RepeatChildren []string               `json:"repeat_children"`
	Unrouted       []events.RecipientKind `json:"unrouted"`
}

// propertyDecisions routes the property test's incidents, in its order and
// with its random stream, and returns one JSON line per decision and case.
func propertyDecisions(t *testing.T) []string {
	t.Helper()
	return propertyDecisionsUnder(t, defaultPolicy(t))
}

// propertyDecisionsUnder is propertyDecisions under policy p.
func propertyDecisionsUnder(t *testing.T, p *policy.Policy) []string {
	t.Helper()
	var lines []string
	add := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	routeGenerated(t, p, func(n int, _ ppn.Incident, out, triage routing.Outcome) {
		add(caseRecord{Incident: n, DefaultRAG: string(out.Case.DefaultRAG), RepeatChildren: out.Case.RepeatChildren, Unrouted: out.Unrouted})
		for _, ph := range []struct {
			name string
			out  routing.Outcome
		}{{"incident", out}, {"triage", triage}} {
			for _, d := range ph.out.Decisions {
				q := d.Request
				add(decisionRecord{Incident: n, Phase: ph.name, NotificationID: q.NotificationID, RuleID: q.RuleID,
					Recipient: q.Recipient, ChildIDs: q.ChildIDs, DueAt: q.DueAt, Calendar: q.Calendar, Profile: string(q.Profile),
					LawfulBasis: q.LawfulBasis, Purpose: q.Purpose, Repeat: q.Repeat, Flags: q.Flags, Notice: q.Notice, SendBy: d.SendBy})
			}
		}
	})
	return lines
}

// TestEquivalenceWithRecordedDecisions: the default policy decides the
// property test's thousand incidents exactly as the router recorded in
// the golden file.
func TestEquivalenceWithRecordedDecisions(t *testing.T) {
	got := propertyDecisions(t)
	if *updateGolden {
		writeGolden(t, got)
		return
	}
	want := readGolden(t)
	if len(want) < 3000 {
		t.Fatalf("the golden file has only %d lines", len(want))
	}
	// The order of one event's notices is not a decision (the MASH's
	// notice leads, which the rule tests check), so each event's lines
	// are compared in the order of their notification ids.
	sortByEvent(t, got)
	sortByEvent(t, want)
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("line %d differs (-recorded +now):\n%s", i+1, gocmp.Diff(w, g))
		}
	}
}

func sortByEvent(t *testing.T, lines []string) {
	t.Helper()
	type key struct {
		N              int    `json:"n"`
		Phase          string `json:"phase"`
		NotificationID string `json:"notification_id"`
	}
	keys := make(map[string]key, len(lines))
	for _, l := range lines {
		var k key
		if err := json.Unmarshal([]byte(l), &k); err != nil {
			t.Fatal(err)
		}
		keys[l] = k
	}
	slices.SortStableFunc(lines, func(a, b string) int {
		ka, kb := keys[a], keys[b]
		return cmp.Or(cmp.Compare(ka.N, kb.N), cmp.Compare(ka.Phase, kb.Phase), cmp.Compare(ka.NotificationID, kb.NotificationID))
	})
}

func writeGolden(t *testing.T, lines []string) {
	t.Helper()
	f, err := os.Create(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := gzip.NewWriter(f)
	for _, l := range lines {
		fmt.Fprintln(z, l)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

func readGolden(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	s := bufio.NewScanner(z)
	s.Buffer(make([]byte, 1<<20), 1<<24)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

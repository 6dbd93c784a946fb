package chaos_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
)

func sampleFigures() chaos.Figures {
	recovered := chaos.Seconds(1.5)
	return chaos.Figures{
		Fault: "F2/router", Title: "router crashes before acknowledging", Profile: "short", Seed: 42,
		Started:  time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		Config:   chaos.Config{NATSVersion: "2.15.2", NATSSync: "always", NATSReplicas: 1, SynchronousCommit: "on"},
		Schedule: []chaos.Mark{{At: 1, What: "stop router"}, {At: 2.5, What: "start router"}},
		Requests: chaos.Requests{Notices: 30, OK: 30, Attempts: 31},
		Errors:   chaos.ErrorMix{ByStatus: map[string]int{"202": 30, "503 unavailable": 1}, Server5xx: 1, HangAfter: 5},
		Lost:     chaos.Lost{StoredNotLedger: 1, ByKind: map[string]chaos.KindDelivery{"mash": {Decided: 30, NotInInbox: 2, NotLedgered: 3}}},
		Duplicates: chaos.Duplicates{Inbox: 1, LedgerFacts: 2, Redeliveries: map[string]int{"router": 2},
			DeadLettered: map[string]int{}},
		Ledger:    chaos.LedgerCheck{Entries: 300, HeadMatches: true},
		Timings:   chaos.Timings{FaultStart: 1, FaultEnd: 2.5, Recover: &recovered, Latency: map[string]chaos.Latency{}},
		Lag:       map[string]uint64{"router": 12},
		NotTested: chaos.NotTested,
	}
}

func TestFigures_Totals(t *testing.T) {
	f := sampleFigures()
	got := map[string]int{"lost": f.Lost.Total(), "duplicate effects": f.Duplicates.Effects()}
	want := map[string]int{"lost": 6, "duplicate effects": 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

func TestFigures_WriteRoundTrips(t *testing.T) {
	f := sampleFigures()
	path, err := f.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Base(path), "20261123T090000Z-short-F2-router.json"; got != want {
		t.Errorf("file name = %s, want %s", got, want)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back chaos.Figures
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, back); diff != "" {
		t.Errorf("figures after a round trip (-written +read):\n%s", diff)
	}
}

func TestFigures_TableNamesEveryTarget(t *testing.T) {
	table := sampleFigures().Table()
	for _, want := range []string{"lost (target 0)", "duplicate effects (target 0)", "mash", "redeliveries router×2",
		"recover 1.50s", "+2.50s start router", "not tested"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

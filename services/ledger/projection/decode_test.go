package projection_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	pt "github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
)

// TestFastFactsAreTheSDKsFacts decodes every simulated event, with its data
// as JSON and as base64 (as the ledger stores sealed events), and a set of
// damaged ones, both ways, and wants the same fact from each.
func TestFastFactsAreTheSDKsFacts(t *testing.T) {
	var entries []auditlog.Entry
	for _, p := range pt.All(pt.Simulate(t, 30, t0, 9)) {
		e, err := auditlog.EntryOf(p.Event, p.Subject, t0)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
		binary := p.Event.Clone()
		if err := binary.SetData("application/json", p.Event.Data()); err != nil {
			t.Fatal(err)
		}
		b, err := auditlog.EntryOf(binary, p.Subject, t0)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, b)
	}
	if !strings.Contains(string(entries[1].Event), `"data_base64"`) || !strings.Contains(string(entries[0].Event), `"data":{`) {
		t.Fatalf("the entries do not cover both ways of carrying data:\n%s\n%s", entries[0].Event, entries[1].Event)
	}
	good := string(entries[2].Event)
	for _, damaged := range []string{
		`{}`, `not json`, `{"specversion":"1.0"}`,
		strings.Replace(good, `"specversion":"1.0"`, `"specversion":"0.3"`, 1),
		strings.Replace(good, `"time":"`, `"time":"yesterday`, 1),
		strings.Replace(good, `"notification_id":"`, `"notification_id":7,"x":"`, 1),
		strings.Replace(good, `"datacontenttype":"application/json"`, `"datacontenttype":"text/plain"`, 1),
		strings.Replace(good, `"data":{`, `"data":[{`, 1),
		strings.Replace(good, `"incidentid":"`, `"IncidentID":"`, 1),
		strings.Replace(good, `"due_at":"`, `"due_at":"2026-13-45T`, 1),
		good[:len(good)/2],
	} {
		if damaged == good {
			t.Fatalf("a damage left the event as it was")
		}
		entries = append(entries, auditlog.Entry{EventID: "damaged", Event: []byte(damaged)})
	}
	used := 0
	for i, e := range entries {
		want, wantOK := projection.FactOfEntry(e)
		got, gotOK := projection.FastFactOfEntry(e)
		if gotOK != wantOK {
			t.Errorf("entry %d: fast ok %v, SDK ok %v:\n%s", i, gotOK, wantOK, e.Event)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("entry %d: facts differ (-SDK +fast):\n%s\n%s", i, diff, e.Event)
		}
		if wantOK {
			used++
		}
	}
	if used < 2*30*8 {
		t.Fatalf("only %d entries gave facts: the comparison proves little", used)
	}
}

package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

func decode(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
}

// streamCount counts the events on a subject in JetStream, where the
// ledger reads them from.
func (b *bundle) streamCount(subject string, eventID string) int {
	b.t.Helper()
	ctx := context.Background()
	s, err := b.js.Stream(ctx, "LANTERN_EVENTS")
	if err != nil {
		b.t.Fatalf("opening stream: %v", err)
	}
	cons, err := s.OrderedConsumer(ctx, jetstreamFilter(subject))
	if err != nil {
		b.t.Fatalf("reading stream: %v", err)
	}
	n := 0
	for {
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			b.t.Fatalf("fetching: %v", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			if m.Headers().Get("ce-id") == eventID {
				n++
			}
		}
		if got == 0 {
			return n
		}
	}
}

func TestAcknowledgingTwiceRecordsOneEvent(t *testing.T) {
	b := setup(t)
	all := b.deliverAll(medway())
	n := all["E06000035"][events.KindSchool]
	path := "/v1/workspace/notices/" + n.NotificationID + "/acknowledge"
	token := b.token("key-adult.118234")

	first := b.api(token, http.MethodPost, path, "")
	if first.status != http.StatusCreated {
		t.Fatalf("first acknowledgement: %d %s", first.status, first.body)
	}
	b.clock.Advance(time.Minute)
	var wg sync.WaitGroup
	again := make([]response, 4)
	for i := range again {
		wg.Add(1)
		go func() { defer wg.Done(); again[i] = b.api(token, http.MethodPost, path, "") }()
	}
	wg.Wait()
	// The page's button, pressed too, answers with the same acknowledgement.
	page := b.signIn("key-adult.118234").post("/notices/"+n.NotificationID+"/acknowledge", nil)
	if page.status != http.StatusSeeOther || !strings.HasSuffix(page.location, "?done=already") {
		t.Errorf("page acknowledgement = %d %s, want 303 to ?done=already", page.status, page.location)
	}
	var want, got map[string]any
	decode(t, first, &want)
	for _, r := range again {
		if r.status != http.StatusOK {
			t.Fatalf("repeated acknowledgement: %d %s", r.status, r.body)
		}
		decode(t, r, &got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("repeated acknowledgement (-first +again):\n%s", diff)
		}
	}
	if acks := b.outboxEvents(events.NotificationAcknowledged); len(acks) != 1 {
		t.Fatalf("outbox holds %d acknowledgements, want 1", len(acks))
	}
	eventID := want["event_id"].(string)
	// A person's action gets an id no one could have derived beforehand
	// from the notice, so it cannot be pre-empted through Nats-Msg-Id.
	if eventID == cloudevent.DeriveID(n.NotificationID, "acknowledged") {
		t.Error("the acknowledgement's event id is derived from its notice")
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		return wantCount(b.streamCount("sg.notification.acknowledged.school", eventID), 1)
	})
}

func TestTriagingTwiceRecordsOneDecision(t *testing.T) {
	b := setup(t)
	m := medway()
	b.deliverAll(m)
	worker := b.token("mash-worker.e06000035")
	base := "/v1/workspace/mash/incidents/" + m.incidentID
	if r := b.api(worker, http.MethodPost, base+"/claim", ""); r.status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	body := `{"rag":"amber","rag_reason":"Victim has moved to a refuge with the child.","decision":"early_help"}`
	first := b.api(worker, http.MethodPost, base+"/triage", body)
	if first.status != http.StatusCreated {
		t.Fatalf("first decision: %d %s", first.status, first.body)
	}
	again := b.api(worker, http.MethodPost, base+"/triage", body)
	if again.status != http.StatusOK || again.body != first.body {
		t.Errorf("same decision again = %d %s, want 200 and the first decision", again.status, again.body)
	}
	page := b.signIn("mash-worker.e06000035").post("/mash/incidents/"+m.incidentID+"/triage", url.Values{
		"rag": {"amber"}, "rag_reason": {"Victim has moved to a refuge with the child."}, "decision": {"early_help"}})
	if page.status != http.StatusSeeOther || !strings.HasSuffix(page.location, "?done=already-decide") {
		t.Errorf("page decision again = %d %s, want 303 to ?done=already-decide", page.status, page.location)
	}
	other := b.api(b.token("mash-manager.e06000035"), http.MethodPost, base+"/triage", `{"rag":"red","decision":"section_47_strategy_discussion"}`)
	if other.status != http.StatusConflict {
		t.Errorf("a different decision = %d %s, want 409", other.status, other.body)
	}
	decisions := b.outboxEvents(events.TriageDecided)
	if len(decisions) != 1 {
		t.Fatalf("outbox holds %d decisions, want 1", len(decisions))
	}
	var d map[string]any
	decode(t, first, &d)
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		return wantCount(b.streamCount("sg.triage.decided", d["event_id"].(string)), 1)
	})
}

func TestTriageNeedsAReasonToDepartFromTheProposal(t *testing.T) {
	b := setup(t)
	m := medway()
	b.deliverAll(m)
	worker := b.token("mash-worker.e06000035")
	r := b.api(worker, http.MethodPost, "/v1/workspace/mash/incidents/"+m.incidentID+"/triage", `{"rag":"green","decision":"no_further_action"}`)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `"/rag_reason"`) {
		t.Fatalf("decision without reason = %d %s, want 422 naming /rag_reason", r.status, r.body)
	}
	if n := len(b.outboxEvents(events.TriageDecided)); n != 0 {
		t.Errorf("a refused decision emitted %d events", n)
	}
}

package e2e_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/faults"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

func TestEndToEnd_NoticeReachesMASHAndSchool(t *testing.T) {
	p := startPipeline(t)
	res := p.post(cluster.SamplePPN(t))
	if res.Status != http.StatusAccepted {
		t.Fatalf("POST status = %d, body %v", res.Status, res.Body)
	}
	id, _ := res.Body["incident_id"].(string)
	if got, want := res.Header.Get("Location"), "/v1/incidents/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	recipients := p.decided(id)
	p.assertReached(recipients)
	types := p.settled(id, len(wantFlow(len(recipients))))
	if types[0] != "incident.reported" {
		t.Errorf("first ledger entry = %s, want incident.reported", types[0])
	}
	if diff := cmp.Diff(wantFlow(len(recipients)), sorted(types)); diff != "" {
		t.Errorf("ledger entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(recipients, p.inboxes(id)); diff != "" {
		t.Errorf("inboxes (-decided +delivered):\n%s", diff)
	}
	p.assertExactlyOnce()
	p.assertTimeline(id, types)
	got := p.get("/v1/incidents/" + id)
	if got.Status != http.StatusOK || got.Body["incident_id"] != id {
		t.Errorf("GET incident = %d %v", got.Status, got.Body)
	}
}

func (p pipeline) assertTimeline(id string, ledgerTypes []string) {
	p.t.Helper()
	res := p.get("/v1/incidents/" + id + "/timeline")
	if res.Status != http.StatusOK {
		p.t.Fatalf("timeline status %d: %v", res.Status, res.Body)
	}
	steps, _ := res.Body["steps"].([]any)
	var types []string
	var lastSeq float64
	for i, s := range steps {
		step := s.(map[string]any)
		types = append(types, shortType(step["type"].(string)))
		if step["actor"] == "" {
			p.t.Errorf("step %d has no actor", i)
		}
		if _, err := time.Parse(time.RFC3339Nano, step["time"].(string)); err != nil {
			p.t.Errorf("step %d time: %v", i, err)
		}
		if seq := step["seq"].(float64); seq <= lastSeq {
			p.t.Errorf("step %d is out of order", i)
		} else {
			lastSeq = seq
		}
	}
	if diff := cmp.Diff(ledgerTypes, types); diff != "" {
		p.t.Errorf("timeline differs from ledger order (-ledger +timeline):\n%s", diff)
	}
}

func TestEndToEnd_RepeatIsIdempotentAndConflictChangesNothing(t *testing.T) {
	p := startPipeline(t)
	body := cluster.SamplePPN(t)
	id := p.accept(body, "Idempotency-Key", "repeat-test-1")
	if again := p.post(body, "Idempotency-Key", "repeat-test-1"); again.Status != http.StatusOK || again.Body["incident_id"] != id {
		t.Errorf("identical repeat = %d %v, want 200 with incident_id %s", again.Status, again.Body, id)
	}
	if byKey := p.post(body); byKey.Status != http.StatusOK || byKey.Body["incident_id"] != id {
		t.Errorf("repeat by natural key = %d %v, want 200 with incident_id %s", byKey.Status, byKey.Body, id)
	}
	changed := bytes.Replace(body, []byte(`"family home"`), []byte(`"a different place"`), 1)
	if conflict := p.post(changed); conflict.Status != http.StatusConflict {
		t.Errorf("conflicting repeat = %d %v, want 409", conflict.Status, conflict.Body)
	}
	recipients := p.decided(id)
	p.settled(id, len(wantFlow(len(recipients))))
	if n := p.count(`SELECT count(*) FROM intake.incidents`); n != 1 {
		t.Errorf("incidents stored = %d, want 1", n)
	}
	if diff := cmp.Diff(recipients, p.inboxes(id)); diff != "" {
		t.Errorf("inboxes (-decided +delivered):\n%s", diff)
	}
	if n := len(p.ledgerTypes(id)); n != len(wantFlow(len(recipients))) {
		t.Errorf("ledger entries = %d, want %d", n, len(wantFlow(len(recipients))))
	}
	// The stored notice is sealed; the intake API opens it (after the
	// ledger count: a read is recorded there too).
	stored := p.get("/v1/incidents/" + id)
	incident, _ := stored.Body["incident"].(map[string]any)
	place, _ := incident["location"].(map[string]any)
	if location, _ := place["description"].(string); location != "family home" {
		t.Errorf("stored location = %v; the conflicting repeat changed the incident", place)
	}
	p.assertExactlyOnce()
}

func TestRouterKilledBeforeAck_NothingLostNothingDoubled(t *testing.T) {
	for _, point := range []string{faults.ConsumeAfterReceive, faults.ConsumeBeforeAck} {
		t.Run(point, func(t *testing.T) {
			p := startPipeline(t)
			p.Stop("router")
			p.Start("router", faults.EnvVar+"="+point)
			id := p.accept(cluster.SamplePPN(t))
			if err := p.WaitExit("router", 60*time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("router should have been killed at %s, got %v", point, err)
			}
			p.Start("router")
			recipients := p.decided(id)
			p.assertReached(recipients)
			p.settled(id, len(wantFlow(len(recipients))))
			if diff := cmp.Diff(recipients, p.inboxes(id)); diff != "" {
				t.Errorf("inboxes (-decided +delivered):\n%s", diff)
			}
			if n := p.count(`SELECT count(*) FROM router.outbox`); n != len(recipients) {
				t.Errorf("router outbox rows = %d, want one per recipient (%d)", n, len(recipients))
			}
			p.assertExactlyOnce()
		})
	}
}

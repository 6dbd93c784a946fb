package e2e_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/webhooktest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// partnerSecret is the sample school's webhook secret, given to delivery by
// reference (env:) as an operator would.
const partnerSecret = "e2e-partner-secret-3f9a"

// webhookPipeline runs the pipeline and escalation with the sample
// reference data plus a webhook for the sample notice's school.
func webhookPipeline(t *testing.T, rcv *webhooktest.Partner, extra ...string) pipeline {
	t.Helper()
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(cluster.Root(), "reference"))); err != nil {
		t.Fatal(err)
	}
	hooks := "recipient_kind,recipient_id,url,secret_ref\nschool,118234," + srv.URL + "/lantern,env:E2E_PARTNER_SECRET\n"
	if err := os.WriteFile(filepath.Join(dir, "webhooks.csv"), []byte(hooks), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"LANTERN_REFERENCE_DIR=" + dir, "E2E_PARTNER_SECRET=" + partnerSecret,
		"DELIVERY_CHANNEL_BACKOFF=200ms", "DELIVERY_CHANNEL_MAX_BACKOFF=500ms", "DELIVERY_CHANNEL_POLL=100ms",
		"LANTERN_SLA_TICK=200ms"}, extra...)
	c := cluster.New(t, cluster.Options{Services: append(slices.Clone(cluster.Pipeline), "escalation"), Env: env})
	return pipeline{Cluster: c, t: t}
}

// currentPPN is the sample notice as if the incident happened half an
// hour ago, so that its deadlines are still ahead.
func currentPPN(t *testing.T) []byte {
	t.Helper()
	var ppn map[string]any
	if err := json.Unmarshal(cluster.SamplePPN(t), &ppn); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	ppn["occurred_at"] = now.Add(-30 * time.Minute).Format(time.RFC3339)
	ppn["reported_at"] = now.Add(-time.Minute).Format(time.RFC3339)
	out, err := json.Marshal(ppn)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// validSignature checks a request as Standard Webhooks receivers do.
func validSignature(r webhooktest.Request) error {
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("webhook-timestamp %q is not now", ts)
	}
	mac := hmac.New(sha256.New, []byte(partnerSecret))
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(r.Body)
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Header.Get("webhook-signature") != want {
		return fmt.Errorf("webhook-signature %q, want %q", r.Header.Get("webhook-signature"), want)
	}
	return nil
}

func (p pipeline) schoolNotice(incidentID string) notice {
	p.t.Helper()
	n, ok := p.findSchoolNotice(incidentID)
	if !ok {
		p.t.Fatal("no notice for the sample school")
	}
	return n
}

func (p pipeline) findSchoolNotice(incidentID string) (notice, bool) {
	for _, n := range p.notices(incidentID) {
		if n.recipient == "school/118234" {
			return n, true
		}
	}
	return notice{}, false
}

func (p pipeline) ledgerCount(incidentID, subject, typ string) int {
	return p.count(`SELECT count(*) FROM ledger.entries WHERE incident_id = $1 AND subject = $2 AND event_type = $3`,
		incidentID, subject, typ)
}

func TestWebhookRetriedUntil2xxIsDeliveredOnce(t *testing.T) {
	rcv := &webhooktest.Partner{Statuses: []int{500, 500, 200}}
	p := webhookPipeline(t, rcv)
	id := p.accept(cluster.SamplePPN(t))
	recipients := p.decided(id)
	p.deliveredOnce(id, len(recipients))
	school := p.schoolNotice(id)
	got := rcv.Requests()
	if len(got) != 3 {
		t.Fatalf("webhook requests = %d, want 3 (500, 500, 200)", len(got))
	}
	for i, r := range got {
		if r.Header.Get("webhook-id") != school.id {
			t.Errorf("attempt %d: webhook-id %q, want %s", i+1, r.Header.Get("webhook-id"), school.id)
		}
		if err := validSignature(r); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
	var ce struct {
		ID   string `json:"id"`
		Data struct {
			Recipient events.Recipient `json:"recipient"`
			Profile   string           `json:"profile"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].Body, &ce); err != nil || ce.ID != school.id || ce.Data.Recipient.ID != "118234" {
		t.Errorf("body = %s (%v), want the school's notice as a CloudEvent", got[0].Body, err)
	}
	if n := p.ledgerCount(id, school.id, string(events.NotificationDelivered)); n != 1 {
		t.Errorf("notification.delivered for the school = %d, want exactly 1", n)
	}
	p.assertExactlyOnce()
}

func TestWebhookThatNeverAnswersFailsAndEscalatesBeforeTheDeadline(t *testing.T) {
	rcv := &webhooktest.Partner{Hang: make(chan struct{})}
	t.Cleanup(func() { close(rcv.Hang) })
	p := webhookPipeline(t, rcv, "DELIVERY_CHANNEL_ATTEMPTS=3", "DELIVERY_CHANNEL_TIMEOUT=500ms")
	id := p.accept(currentPPN(t))
	p.decided(id)
	var school notice
	p.WaitFor(90*time.Second, func() error {
		var ok bool
		if school, ok = p.findSchoolNotice(id); !ok {
			return fmt.Errorf("the school's notice is not in its inbox yet")
		}
		if p.ledgerCount(id, school.id, string(events.NotificationFailed)) != 1 {
			return fmt.Errorf("no notification.failed for the school yet")
		}
		if p.ledgerCount(id, school.id, string(events.SLAAtRisk)) == 0 {
			return fmt.Errorf("no at-risk escalation for the school yet")
		}
		return nil
	})
	if n := len(rcv.Requests()); n != 3 {
		t.Errorf("webhook requests = %d, want 3 attempts", n)
	}
	if n := p.ledgerCount(id, school.id, string(events.NotificationDelivered)); n != 0 {
		t.Errorf("a notice whose webhook never answered was announced delivered")
	}
	var raisedAt time.Time
	if err := p.Pool.QueryRow(p.t.Context(), `SELECT min(event_time) FROM ledger.entries WHERE subject = $1 AND event_type = $2`,
		school.id, string(events.SLAAtRisk)).Scan(&raisedAt); err != nil {
		t.Fatal(err)
	}
	if !raisedAt.Before(school.due) {
		t.Errorf("at risk raised at %v, not before the deadline %v", raisedAt, school.due)
	}
	if n := p.count(`SELECT count(*) FROM delivery.inbox WHERE notification_id = $1`, school.id); n != 1 {
		t.Errorf("the failed notice left the inbox")
	}
}

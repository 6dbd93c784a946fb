package inbox_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/webhooktest"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/webhook"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

const webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func webhookRig(t *testing.T, rcv *webhooktest.Partner, retry inbox.Retry) rig {
	t.Helper()
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	t.Setenv("LANTERN_TEST_WEBHOOK_SECRET", webhookSecret)
	ref := referenceWith(t, map[string]string{"webhooks.csv": "recipient_kind,recipient_id,url,secret_ref\n" +
		"school,999001," + srv.URL + "/lantern,env:LANTERN_TEST_WEBHOOK_SECRET\n"})
	return newRig(t, ref, retry)
}

func TestWebhookRetriedUntil2xxWithOneIDAndValidSignatures(t *testing.T) {
	rcv := &webhooktest.Partner{Statuses: []int{500, 500, 200}}
	r := webhookRig(t, rcv, inbox.Retry{Attempts: 5, Backoff: time.Second, MaxBackoff: 4 * time.Second})
	r.handle(t, requested(t))
	for range 20 {
		r.dispatch(t)
		r.clock.Advance(time.Second)
	}
	got := rcv.Requests()
	if len(got) != 3 {
		t.Fatalf("webhook attempts = %d, want 3 (500, 500, 200)", len(got))
	}
	secret, err := webhook.Secret("env:LANTERN_TEST_WEBHOOK_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	for i, req := range got {
		if id := req.Header.Get("webhook-id"); id != exampleID {
			t.Errorf("attempt %d: webhook-id %q, want the notification id %s", i+1, id, exampleID)
		}
		if err := webhook.Verify(secret, req.Header, req.Body, r.clock.Now(), time.Minute); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
		if string(req.Body) != string(got[0].Body) {
			t.Errorf("attempt %d sent a different body", i+1)
		}
		if err := webhook.Verify([]byte("another secret"), req.Header, req.Body, r.clock.Now(), time.Minute); err == nil {
			t.Errorf("attempt %d: a signature checked with the wrong secret passed", i+1)
		}
	}
	var ce struct {
		SpecVersion string `json:"specversion"`
		ID          string `json:"id"`
		Data        struct {
			Profile string          `json:"profile"`
			Notice  json.RawMessage `json:"notice"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].Body, &ce); err != nil || ce.SpecVersion != "1.0" || ce.ID != exampleID || ce.Data.Profile != "B" {
		t.Errorf("body is not the structured CloudEvent of the notice: %s (%v)", got[0].Body, err)
	}
	if !strings.Contains(string(got[0].Body), `"Cara Example"`) {
		t.Errorf("the webhook's notice is still sealed, or lacks what the profile allows: %s", got[0].Body)
	}
	if !strings.HasPrefix(got[0].Header.Get("Content-Type"), "application/cloudevents+json") {
		t.Errorf("Content-Type = %q", got[0].Header.Get("Content-Type"))
	}
	d := onlyEvent[events.NotificationDeliveredData](t, r, events.NotificationDelivered)
	channels := map[string]string{}
	for _, c := range d.Channels {
		channels[c.Channel] = c.ProviderID
	}
	if channels["webhook"] != exampleID || channels["email"] == "" {
		t.Errorf("delivered channels = %+v, want the e-mail and the webhook", d.Channels)
	}
}

func TestWebhookThatNeverAnswersFailsTheNotice(t *testing.T) {
	rcv := &webhooktest.Partner{Statuses: []int{200}, Hang: make(chan struct{})}
	t.Cleanup(func() { close(rcv.Hang) })
	r := webhookRig(t, rcv, inbox.Retry{Attempts: 3, Backoff: time.Second, MaxBackoff: time.Second, Timeout: 200 * time.Millisecond})
	r.handle(t, requested(t))
	for range 10 {
		r.dispatch(t)
		r.clock.Advance(time.Second)
	}
	if n := len(rcv.Requests()); n != 3 {
		t.Errorf("webhook attempts = %d, want 3", n)
	}
	f := onlyEvent[events.NotificationFailedData](t, r, events.NotificationFailed)
	if !strings.Contains(f.Reason, "webhook channel gave up after 3 attempt(s): the webhook did not answer in time") {
		t.Errorf("reason = %q", f.Reason)
	}
	if got := r.events(t, events.NotificationDelivered); len(got) != 0 {
		t.Errorf("a notice whose webhook never answered was announced delivered")
	}
}

func TestWebhookSecretMissingFailsAtOnce(t *testing.T) {
	rcv := &webhooktest.Partner{Statuses: []int{200}}
	r := webhookRig(t, rcv, inbox.Retry{})
	t.Setenv("LANTERN_TEST_WEBHOOK_SECRET", "")
	r.handle(t, requested(t))
	r.dispatch(t)
	if n := len(rcv.Requests()); n != 0 {
		t.Errorf("posted %d unsigned requests", n)
	}
	if got := r.events(t, events.NotificationFailed); len(got) != 1 {
		t.Errorf("failed events = %d, want 1 for a secret that is not there", len(got))
	}
}

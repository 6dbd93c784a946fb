package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// inboxItem is what the inbox API says of one notice.
type inboxItem struct {
	NotificationID  string     `json:"notification_id"`
	ReceivedAt      time.Time  `json:"received_at"`
	DeliveredAt     *time.Time `json:"delivered_at"`
	ChannelsPending bool       `json:"channels_pending"`
}

// inboxItems is the caller's inbox as the API lists it.
func (b *bundle) inboxItems(token string) map[string]inboxItem {
	b.t.Helper()
	var body struct {
		Notices []inboxItem `json:"notices"`
	}
	r := b.api(token, http.MethodGet, "/v1/workspace/notices", "")
	if r.status != http.StatusOK {
		b.t.Fatalf("inbox: %d %s", r.status, r.body)
	}
	decode(b.t, r, &body)
	out := map[string]inboxItem{}
	for _, n := range body.Notices {
		out[n.NotificationID] = n
	}
	return out
}

// TestANoticeIsInTheInboxWhileItsPromptsAreBeingSent is a notice whose
// notification.delivered has not come: its e-mail prompt is held for the
// school's hours, retried, or has failed (contract.md section 5: "the inbox
// copy remains"). The recipient sees it in the inbox from its request on,
// marked as still being sent, opens and acknowledges it; the MASH's queue
// has its own such notice, received when requested. Delivery in full
// clears the mark and leaves the received time as it was.
func TestANoticeIsInTheInboxWhileItsPromptsAreBeingSent(t *testing.T) {
	b := setup(t)
	ns := medway().notices(t)
	school, mash := ns[events.KindSchool], ns[events.KindMASH]
	b.request(school)
	b.request(mash)
	token := b.token("key-adult.118234")
	var item inboxItem
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		var ok bool
		if item, ok = b.inboxItems(token)[school.NotificationID]; !ok {
			return fmt.Errorf("the requested notice is not in the school's inbox")
		}
		return nil
	})
	if !item.ChannelsPending || item.DeliveredAt != nil || !item.ReceivedAt.Equal(school.RequestedAt) {
		t.Errorf("notice before delivery: channels_pending %v, delivered_at %v, received_at %v; want true, none, %v",
			item.ChannelsPending, item.DeliveredAt, item.ReceivedAt, school.RequestedAt)
	}
	br := b.signIn("key-adult.118234")
	if page := br.get("/notices/" + school.NotificationID); page.status != http.StatusOK ||
		!strings.Contains(page.body, "not all accepted yet") {
		t.Errorf("notice page before delivery: %d, marked as being sent: %v", page.status, strings.Contains(page.body, "not all accepted yet"))
	}
	if page := br.get("/inbox"); !strings.Contains(page.body, "Prompts still being sent") {
		t.Error("the inbox page does not mark the notice whose prompts are still being sent")
	}
	if ack := b.api(token, http.MethodPost, "/v1/workspace/notices/"+school.NotificationID+"/acknowledge", ""); ack.status != http.StatusCreated {
		t.Errorf("acknowledging before delivery: %d %s", ack.status, ack.body)
	}
	queue := b.api(b.token("mash-worker.e06000035"), http.MethodGet, "/v1/workspace/mash/queue", "")
	if queue.status != http.StatusOK || !strings.Contains(queue.body, mash.NotificationID) {
		t.Errorf("MASH queue before delivery: %d %s; want the MASH notice", queue.status, queue.body)
	}
	incident := b.api(b.token("mash-worker.e06000035"), http.MethodGet, "/v1/workspace/mash/incidents/"+mash.IncidentID, "")
	if incident.status != http.StatusOK || !strings.Contains(incident.body, `"channels_pending":true`) {
		t.Errorf("MASH incident before delivery: %d %s; want it, marked as being sent", incident.status, incident.body)
	}

	b.delivered(school)
	b.waitDelivered(school.NotificationID)
	item = b.inboxItems(token)[school.NotificationID]
	if item.ChannelsPending || item.DeliveredAt == nil || !item.ReceivedAt.Equal(school.RequestedAt) {
		t.Errorf("notice after delivery: channels_pending %v, delivered_at %v, received_at %v; want false, set, %v",
			item.ChannelsPending, item.DeliveredAt, item.ReceivedAt, school.RequestedAt)
	}
}

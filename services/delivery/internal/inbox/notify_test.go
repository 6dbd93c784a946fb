package inbox_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/notify"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/notify/notifytest"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

// notifyRig is a deliverer whose only channel is GOV.UK Notify, a local
// one.
func notifyRig(t *testing.T, contacts string) (rig, *notifytest.Server) {
	t.Helper()
	ref := referenceWith(t, map[string]string{"contacts.csv": "recipient_kind,recipient_id,channel,address,hours\n" + contacts})
	r := newRig(t, ref, inbox.Retry{Attempts: 3, Backoff: time.Second, MaxBackoff: time.Second})
	srv := notifytest.Start(t, r.clock.Now)
	key, err := notify.ParseKey(srv.APIKey())
	if err != nil {
		t.Fatal(err)
	}
	r.d.UseChannels(inbox.Channels{Reference: func() *refdata.Set { return ref }, PublicURL: "https://lantern.example",
		Notify: notify.New(key, notify.Options{URL: srv.URL, EmailTemplate: uuid.NewString(), SMSTemplate: uuid.NewString(), Clock: r.clock}),
		Retry:  inbox.Retry{Attempts: 3, Backoff: time.Second, MaxBackoff: time.Second}})
	return r, srv
}

func (r rig) run(t *testing.T, passes int) {
	t.Helper()
	for range passes {
		r.dispatch(t)
		r.clock.Advance(time.Second)
	}
}

func TestNotifyDeliveryReceiptDeliversTheNotice(t *testing.T) {
	r, srv := notifyRig(t, "school,999001,sms,07700 900123,\n")
	srv.NewStatus("sending")
	r.handle(t, requested(t))
	r.run(t, 3)
	sent := srv.Sent()
	if len(sent) != 1 || sent[0].Kind != "email" || sent[0].To != exampleAddress || sent[0].Reference != exampleID {
		t.Fatalf("sent = %+v, want one e-mail and no text for a notice not due within 4 hours", sent)
	}
	if got := r.events(t, events.NotificationDelivered); len(got) != 0 {
		t.Fatal("delivered before Notify's receipt said so")
	}
	srv.SetStatus(sent[0].ID, "delivered")
	r.run(t, 3)
	d := onlyEvent[events.NotificationDeliveredData](t, r, events.NotificationDelivered)
	if len(d.Channels) != 1 || d.Channels[0].Channel != "notify_email" || d.Channels[0].ProviderID != sent[0].ID {
		t.Errorf("channels = %+v, want Notify's id", d.Channels)
	}
	if len(srv.Sent()) != 1 {
		t.Errorf("checking the receipt sent again: %d", len(srv.Sent()))
	}
}

func TestNotifyPermanentFailureFailsTheNotice(t *testing.T) {
	r, srv := notifyRig(t, "")
	srv.NewStatus("permanent-failure")
	r.handle(t, requested(t))
	r.run(t, 5)
	f := onlyEvent[events.NotificationFailedData](t, r, events.NotificationFailed)
	if !strings.Contains(f.Reason, "notify_email channel gave up") || !strings.Contains(f.Reason, "permanent failure") {
		t.Errorf("reason = %q", f.Reason)
	}
	if n := len(srv.Sent()); n != 1 {
		t.Errorf("sent %d times; a permanent failure is not sent again", n)
	}
}

func TestUrgentNoticeGoesByTextMessageToo(t *testing.T) {
	r, srv := notifyRig(t, "school,999001,sms,07700 900123,\n")
	r.handle(t, request(t, exampleID, friday2300.Add(3*time.Hour)))
	r.run(t, 3)
	kinds := map[string]string{}
	for _, m := range srv.Sent() {
		kinds[m.Kind] = m.To
	}
	if kinds["sms"] != "07700 900123" || kinds["email"] != exampleAddress || len(srv.Sent()) != 2 {
		t.Errorf("sent = %+v, want an e-mail and a text", srv.Sent())
	}
	if got := r.events(t, events.NotificationDelivered); len(got) != 1 {
		t.Errorf("delivered events = %d, want 1", len(got))
	}
}

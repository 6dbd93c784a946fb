package e2e_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// TestBrokerRefusesStrangersAndForgeries tries the broker of a running
// pipeline, every service connected over TLS with its own identity, as an
// attacker on the same machine would: without credentials,
// and with the escalation service's credentials stolen, forging the
// acknowledgement that would stop a school's escalation and a notice that
// would fill an inbox. Nothing forged reaches an inbox, a deadline or the
// ledger, and each refusal is visible.
func TestBrokerRefusesStrangersAndForgeries(t *testing.T) {
	p := pipeline{Cluster: cluster.New(t, cluster.Options{Services: append(slices.Clone(cluster.Pipeline), "escalation"), TLS: true}), t: t}
	if !strings.HasPrefix(p.NATSURL, "tls://") {
		t.Fatalf("the broker is at %s, want tls://", p.NATSURL)
	}
	plain := strings.Replace(p.NATSURL, "tls://", "nats://", 1)
	if _, err := nats.Connect(plain, nats.Secure(&tls.Config{InsecureSkipVerify: false})); err == nil {
		t.Fatal("a client that does not trust the broker's authority connected")
	}
	if _, err := nats.Connect(p.NATSURL, nats.RootCAs(p.NATSCA)); err == nil || !strings.Contains(err.Error(), "Authorization Violation") {
		t.Fatalf("a client without credentials: err = %v, want Authorization Violation", err)
	}
	id := p.accept(cluster.SamplePPN(t))
	recipients := p.decided(id)
	p.assertReached(recipients)
	genuine := len(p.settled(id, len(wantFlow(len(recipients)))))
	notification := p.strings(`SELECT notification_id FROM delivery.inbox WHERE incident_id = $1 AND recipient_kind = 'school'`, id)[0]

	var mu sync.Mutex
	var refusals []string
	stolen := p.ConnectNATS("escalation", nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		mu.Lock()
		defer mu.Unlock()
		refusals = append(refusals, err.Error())
	}))
	forge := func(eventID string, typ events.Type, source, subject string, data any) {
		e, err := cloudevent.New(cloudevent.Spec{ID: eventID, Type: typ, Source: source, Subject: notification,
			IncidentID: id, Actor: "user:attacker", Time: time.Now(), Data: data})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := cloudevent.ToMsg(e, subject)
		if err != nil {
			t.Fatal(err)
		}
		if err := stolen.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
	}
	ack := map[string]any{"notification_id": notification, "incident_id": id, "recipient_kind": "school",
		"acknowledged_at": time.Now().UTC().Format(time.RFC3339), "acknowledged_by": "attacker"}
	forge("forged-ack", events.NotificationAcknowledged, events.SourceWorkspace, "sg.notification.acknowledged.school", ack)
	forge("forged-notice", events.NotificationRequested, events.SourceRouter, "sg.notification.requested.school", map[string]any{})
	// On a subject the stolen identity owns, claiming to be the workspace.
	forge("forged-on-own", events.NotificationAcknowledged, events.SourceWorkspace, "sg.sla.breached.school", ack)
	if err := stolen.Flush(); err != nil {
		t.Fatal(err)
	}

	p.WaitFor(30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, subject := range []string{"sg.notification.acknowledged.school", "sg.notification.requested.school"} {
			if !containsRefusal(refusals, subject) {
				return fmt.Errorf("no refusal of %s yet: %v", subject, refusals)
			}
		}
		return nil
	})
	js, err := jetstream.New(p.ConnectNATS(natsauth.Provisioner))
	if err != nil {
		t.Fatal(err)
	}
	// The ledger refuses the one that reached the stream, visibly.
	p.WaitFor(60*time.Second, func() error {
		letters, err := bus.DeadLetters(context.Background(), js)
		if err != nil {
			return err
		}
		for _, d := range letters {
			if d.EventID == "forged-on-own" && d.Consumer == "ledger" && strings.Contains(d.Reason, "refused") {
				return nil
			}
		}
		return errors.New("the ledger has not refused the forged acknowledgement")
	})
	stream, err := js.Stream(context.Background(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	for _, filter := range []string{"sg.notification.acknowledged.>", "sg.notification.requested.school"} {
		info, err := stream.Info(context.Background(), jetstream.WithSubjectFilter(filter))
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		for _, c := range info.State.Subjects {
			n += c
		}
		if want := uint64(countPrefix(recipients, "school/")); filter != "sg.notification.acknowledged.>" && n != want {
			t.Errorf("%s holds %d messages, want the %d genuine", filter, n, want)
		} else if filter == "sg.notification.acknowledged.>" && n != 0 {
			t.Errorf("%s holds %d messages; nobody acknowledged", filter, n)
		}
	}
	if n := p.count(`SELECT count(*) FROM ledger.entries WHERE event_id LIKE 'forged-%'`); n != 0 {
		t.Errorf("the ledger holds %d forged entries", n)
	}
	if got := len(p.ledgerTypes(id)); got != genuine {
		t.Errorf("the ledger holds %d entries for the incident, want the %d genuine", got, genuine)
	}
	if n := p.count(`SELECT count(*) FROM delivery.inbox WHERE incident_id = $1`, id); n != len(recipients) {
		t.Errorf("%d inbox entries, want the %d decided", n, len(recipients))
	}
}

func containsRefusal(refusals []string, subject string) bool {
	for _, r := range refusals {
		if strings.Contains(strings.ToLower(r), strings.ToLower(fmt.Sprintf("publish to %q", subject))) {
			return true
		}
	}
	return false
}

func countPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// TestForgerCannotPreemptTheEventsOfANotice: with the escalation
// service's credentials stolen, a forger who has seen a notice requested
// publishes first, on a subject that identity owns, under the id anyone
// could derive for the notice's delivery from what it saw. JetStream would
// drop the genuine event as a duplicate of the forgery; the delivery
// service derives its ids with its own key, so the delivery still reaches
// the ledger, once for each notice.
func TestForgerCannotPreemptTheEventsOfANotice(t *testing.T) {
	p := pipeline{Cluster: cluster.New(t, cluster.Options{Services: []string{"intake", "router", "ledger", "gateway"}}), t: t}
	id := p.accept(cluster.SamplePPN(t))
	recipients := p.decided(id)
	p.settled(id, 1+len(recipients))
	notifications := p.strings(`SELECT notification_id FROM router.notifications WHERE incident_id = $1`, id)

	stolen := p.ConnectNATS("escalation")
	for _, n := range notifications {
		msg := nats.NewMsg("sg.sla.breached.school")
		msg.Header.Set(jetstream.MsgIDHeader, cloudevent.DeriveID(n, string(events.NotificationDelivered)))
		msg.Data = []byte(`{}`)
		if err := stolen.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := stolen.Flush(); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(p.ConnectNATS(natsauth.Provisioner))
	if err != nil {
		t.Fatal(err)
	}
	p.WaitFor(30*time.Second, func() error {
		stream, err := js.Stream(context.Background(), bus.EventsStream)
		if err != nil {
			return err
		}
		info, err := stream.Info(context.Background(), jetstream.WithSubjectFilter("sg.sla.breached.school"))
		if err != nil {
			return err
		}
		if got := info.State.Subjects["sg.sla.breached.school"]; got != uint64(len(notifications)) {
			return fmt.Errorf("the stream holds %d of the %d forgeries", got, len(notifications))
		}
		return nil
	})

	p.Start("delivery")
	p.settled(id, len(wantFlow(len(recipients))))
	p.WaitFor(30*time.Second, func() error {
		if n := p.count(`SELECT count(*) FROM ledger.entries WHERE incident_id = $1 AND event_type = $2`, id, string(events.NotificationDelivered)); n != len(notifications) {
			return fmt.Errorf("the ledger holds %d deliveries, want %d", n, len(notifications))
		}
		return nil
	})
}

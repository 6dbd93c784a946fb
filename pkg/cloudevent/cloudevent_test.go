package cloudevent_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

func sample(t *testing.T, subject string) cloudevent.Event {
	t.Helper()
	e, err := cloudevent.New(cloudevent.Spec{
		ID: cloudevent.DeriveID("incident-1", "reported"), Type: events.IncidentReported, Source: events.SourceIntake,
		Subject: subject, IncidentID: "0193a3c4-0000-7000-8000-000000000001", Actor: "police:KENT",
		Time: time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC), Data: map[string]string{"name": "Zoë O'Brien"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRoundTripThroughBinaryMode(t *testing.T) {
	for _, subject := range []string{"plain", "with space and \"quote\" and 100%", "Zoë – ünïcode"} {
		t.Run(subject, func(t *testing.T) {
			e := sample(t, subject)
			msg, err := cloudevent.ToMsg(e, "sg.incident.reported")
			if err != nil {
				t.Fatal(err)
			}
			if got := msg.Header.Get(nats.MsgIdHdr); got != e.ID() {
				t.Errorf("Nats-Msg-Id = %q, want the event id %q", got, e.ID())
			}
			for name, values := range msg.Header {
				for _, v := range values {
					for _, c := range []byte(v) {
						if c <= 0x20 || c >= 0x7f || c == '"' {
							t.Errorf("header %s carries unencoded byte %q", name, c)
						}
					}
				}
			}
			back, err := cloudevent.FromMsg(msg.Header, msg.Data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(e.String(), back.String()); diff != "" {
				t.Errorf("round trip (-sent +received):\n%s", diff)
			}
			if cloudevent.IncidentID(back) != cloudevent.IncidentID(e) || cloudevent.Actor(back) != "police:KENT" {
				t.Errorf("extensions lost: %v", back.Extensions())
			}
		})
	}
}

func TestDeriveIDIsStableAndDistinct(t *testing.T) {
	a := cloudevent.DeriveID("n-1", "delivered")
	if a != cloudevent.DeriveID("n-1", "delivered") {
		t.Error("the same parts gave different ids")
	}
	for _, other := range []string{cloudevent.DeriveID("n-1", "acknowledged"), cloudevent.DeriveID("n-1delivered"), cloudevent.DeriveID("n", "-1delivered")} {
		if other == a {
			t.Errorf("different parts gave the same id %s", a)
		}
	}
}

// TestKeyedIDsCannotBePredicted: a keyed id is stable for its service, is
// not the id anyone could derive from the same public parts, differs under
// another service's key, and is a well-formed UUID that events accept.
func TestKeyedIDsCannotBePredicted(t *testing.T) {
	router := cloudevent.KeyedIDs("router-secret-key-0123456789")
	a := router.Derive("n-1", "delivered")
	if a != router.Derive("n-1", "delivered") {
		t.Error("the same parts under the same key gave different ids")
	}
	for name, predicted := range map[string]string{
		"unkeyed":       cloudevent.DeriveID("n-1", "delivered"),
		"zero IDs":      cloudevent.IDs{}.Derive("n-1", "delivered"),
		"another key":   cloudevent.KeyedIDs("delivery-secret-key-0123456789").Derive("n-1", "delivered"),
		"another parts": router.Derive("n-1", "acknowledged"),
		"joined parts":  router.Derive("n-1delivered"),
	} {
		if predicted == a {
			t.Errorf("%s: %s is the keyed id", name, predicted)
		}
	}
	u, err := uuid.Parse(a)
	if err != nil || u.Version() != 8 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("keyed id %s: version %d, variant %v, err %v; want an RFC 9562 version 8 UUID", a, u.Version(), u.Variant(), err)
	}
	if _, err := cloudevent.New(cloudevent.Spec{ID: a, Type: events.NotificationDelivered, Source: events.SourceDelivery,
		Subject: "n-1", IncidentID: "i-1", Time: time.Now(), Data: map[string]string{}}); err != nil {
		t.Errorf("an event with the keyed id: %v", err)
	}
}

func TestFromMsgRefusesMalformedEvents(t *testing.T) {
	good := func() nats.Header {
		msg, err := cloudevent.ToMsg(sample(t, "s"), "sg.x")
		if err != nil {
			t.Fatal(err)
		}
		return msg.Header
	}
	cases := map[string]func(nats.Header){
		"missing id":           func(h nats.Header) { h.Del("ce-id") },
		"missing source":       func(h nats.Header) { h.Del("ce-source") },
		"missing type":         func(h nats.Header) { h.Del("ce-type") },
		"missing specversion":  func(h nats.Header) { h.Del("ce-specversion") },
		"old specversion":      func(h nats.Header) { h.Set("ce-specversion", "0.3") },
		"bad time":             func(h nats.Header) { h.Set("ce-time", "yesterday") },
		"bad percent-encoding": func(h nats.Header) { h.Set("ce-subject", "%zz") },
		"invalid utf-8":        func(h nats.Header) { h.Set("ce-subject", "%ff%fe") },
		"repeated attribute":   func(h nats.Header) { h.Add("ce-id", "second") },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			h := good()
			mutate(h)
			_, err := cloudevent.FromMsg(h, []byte(`{}`))
			if !errors.Is(err, cloudevent.ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestStructuredModeIsRead(t *testing.T) {
	e := sample(t, "s")
	body, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	h := nats.Header{}
	h.Set("Content-Type", "application/cloudevents+json")
	back, err := cloudevent.FromMsg(h, body)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != e.ID() || string(back.Data()) != string(e.Data()) {
		t.Errorf("structured event read as %v", back)
	}
}

func FuzzFromMsg(f *testing.F) {
	f.Add("1.0", "id-1", "/lantern/intake", "org.lantern.incident.reported.v1", "2026-11-20T22:40:00Z", "inc-1", []byte(`{"a":1}`))
	f.Add("0.3", "", "", "", "not a time", "%zz", []byte(`{`))
	f.Fuzz(func(t *testing.T, spec, id, source, typ, at, incident string, data []byte) {
		h := nats.Header{}
		h.Set("ce-specversion", spec)
		h.Set("ce-id", id)
		h.Set("ce-source", source)
		h.Set("ce-type", typ)
		h.Set("ce-time", at)
		h.Set("ce-incidentid", incident)
		e, err := cloudevent.FromMsg(h, data)
		if err != nil {
			if !errors.Is(err, cloudevent.ErrMalformed) {
				t.Fatalf("error not marked malformed: %v", err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
	})
}

// Package cloudevent builds Lantern's CloudEvents and maps them to and from
// NATS messages in the binary content mode of the CloudEvents NATS protocol
// binding: every attribute travels as a `ce-<name>` header, percent-encoded
// as the binding requires, and the message body is the event's JSON data.
//
// The CloudEvents sdk-go supplies the event model and its validation; the
// mapping is Lantern's own because sdk-go neither percent-encodes header
// values nor sets Nats-Msg-Id (see docs/design.md).
package cloudevent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// Event is a CloudEvents 1.0 event.
type Event = event.Event

// Spec is what a service knows when it emits an event.
type Spec struct {
	// ID must be deterministic for effects that may be retried (derive it
	// with DeriveID) so that a retry is recognised as the same event.
	ID         string
	Type       events.Type
	Source     string
	Subject    string
	IncidentID string
	Actor      string
	Time       time.Time
	Data       any
}

// New builds and validates an event with JSON data.
func New(s Spec) (Event, error) {
	e := event.New()
	e.SetID(s.ID)
	e.SetType(string(s.Type))
	e.SetSource(s.Source)
	e.SetSubject(s.Subject)
	e.SetTime(s.Time.UTC())
	e.SetExtension(events.ExtIncidentID, s.IncidentID)
	if s.Actor != "" {
		e.SetExtension(events.ExtActor, s.Actor)
	}
	if err := e.SetData(event.ApplicationJSON, s.Data); err != nil {
		return Event{}, fmt.Errorf("encoding %s data: %w", s.Type, err)
	}
	if s.IncidentID == "" {
		return Event{}, errors.New("event has no incident id")
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("invalid %s event: %w", s.Type, err)
	}
	return e, nil
}

// RandomID returns a UUID of 122 random bits (version 4), for an event a
// person's action causes. Such an id is stored with the action, so a retry
// still publishes the same id, but no one can know it beforehand: a name-
// based id could be predicted from the notice it belongs to and published
// first with that Nats-Msg-Id, from any subject, so that JetStream drops
// the genuine event as a duplicate within its deduplication window.
func RandomID() string { return uuid.New().String() }

// idNamespace roots Lantern's name-based event ids.
var idNamespace = uuid.MustParse("6f1a7d0e-52c1-4f4e-9a55-2f0b8d0c3e11")

// DeriveID returns a stable UUID (version 5) for the parts, so that the same
// decision taken twice yields the same event id and is deduplicated. Anyone
// who knows the parts can compute it: an id derived from what others see
// (a notification id, a step) is derived with IDs instead.
func DeriveID(parts ...string) string {
	return uuid.NewSHA1(idNamespace, []byte(strings.Join(parts, "\x1f"))).String()
}

// IDs derives a service's event ids with its secret key: HMAC-SHA256 of
// the parts, as a UUID (version 8, RFC 9562's custom layout). The same
// parts give the same id, so a redelivered event is still deduplicated, but
// only the service can compute it: a forger who sees the notification an
// event will concern cannot publish first with that Nats-Msg-Id and have
// JetStream drop the genuine event as a duplicate. The zero IDs, without a
// key, derives as DeriveID does, for tests.
type IDs struct{ key []byte }

// KeyedIDs derives ids with key (LANTERN_EVENT_ID_KEY).
func KeyedIDs(key string) IDs { return IDs{key: []byte(key)} }

// Derive returns the id of the parts.
func (k IDs) Derive(parts ...string) string {
	if len(k.key) == 0 {
		return DeriveID(parts...)
	}
	mac := hmac.New(sha256.New, k.key)
	mac.Write([]byte(strings.Join(parts, "\x1f")))
	var id uuid.UUID
	copy(id[:], mac.Sum(nil))
	id[6] = id[6]&0x0f | 0x80 // version 8
	id[8] = id[8]&0x3f | 0x80 // the RFC 9562 variant
	return id.String()
}

// IncidentID returns the incidentid extension of e.
func IncidentID(e Event) string {
	v, _ := e.Extensions()[events.ExtIncidentID].(string)
	return v
}

// Actor returns the actor extension of e.
func Actor(e Event) string {
	v, _ := e.Extensions()[events.ExtActor].(string)
	return v
}

// DecodeData decodes e's JSON data into v, refusing unknown fields so that a
// producer and consumer that drift apart fail loudly rather than lose data.
func DecodeData(e Event, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(e.Data())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding %s data: %w", e.Type(), err)
	}
	return nil
}

// HeaderMsgID is the JetStream deduplication header.
const HeaderMsgID = nats.MsgIdHdr

package cloudevent

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
)

const headerPrefix = "ce-"

// ErrMalformed marks a message that can never become a valid event, however
// often it is redelivered; consumers dead-letter it at once.
var ErrMalformed = errors.New("malformed cloudevent")

// ToMsg maps e to a NATS message on subject in binary mode, with
// Nats-Msg-Id set to the event id so that JetStream drops a re-publish.
func ToMsg(e Event, subject string) (*nats.Msg, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("invalid event: %w", err)
	}
	h := nats.Header{}
	set := func(name, value string) { h.Set(headerPrefix+name, encodeValue(value)) }
	set("specversion", e.SpecVersion())
	set("id", e.ID())
	set("source", e.Source())
	set("type", e.Type())
	if e.Subject() != "" {
		set("subject", e.Subject())
	}
	if !e.Time().IsZero() {
		set("time", e.Time().UTC().Format(time.RFC3339Nano))
	}
	if e.DataContentType() != "" {
		set("datacontenttype", e.DataContentType())
	}
	if e.DataSchema() != "" {
		set("dataschema", e.DataSchema())
	}
	for name, v := range e.Extensions() {
		set(name, fmt.Sprint(v))
	}
	h.Set(HeaderMsgID, e.ID())
	return &nats.Msg{Subject: subject, Header: h, Data: e.Data()}, nil
}

// FromMsg reads a binary-mode CloudEvent from NATS headers and body. A
// message whose Content-Type is application/cloudevents is structured mode
// and is read as a JSON event instead.
func FromMsg(h nats.Header, data []byte) (Event, error) {
	if ct := strings.ToLower(h.Get("Content-Type")); strings.HasPrefix(ct, "application/cloudevents") {
		return fromStructured(data)
	}
	e := event.New()
	attrs, err := readAttributes(h)
	if err != nil {
		return Event{}, err
	}
	if attrs["specversion"] != event.CloudEventsVersionV1 {
		return Event{}, fmt.Errorf("%w: specversion %q is not 1.0", ErrMalformed, attrs["specversion"])
	}
	if err := applyAttributes(&e, attrs); err != nil {
		return Event{}, err
	}
	e.DataEncoded = data
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return e, nil
}

func fromStructured(data []byte) (Event, error) {
	e := event.New()
	if err := e.UnmarshalJSON(data); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return e, nil
}

func readAttributes(h nats.Header) (map[string]string, error) {
	attrs := map[string]string{}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := strings.ToLower(k)
		if !strings.HasPrefix(name, headerPrefix) {
			continue
		}
		name = strings.TrimPrefix(name, headerPrefix)
		if _, dup := attrs[name]; dup || len(h[k]) != 1 {
			return nil, fmt.Errorf("%w: attribute %s appears more than once", ErrMalformed, name)
		}
		v, err := decodeValue(h[k][0])
		if err != nil {
			return nil, fmt.Errorf("%w: attribute %s: %v", ErrMalformed, name, err)
		}
		attrs[name] = v
	}
	return attrs, nil
}

func applyAttributes(e *Event, attrs map[string]string) error {
	for name, v := range attrs {
		switch name {
		case "specversion":
		case "id":
			e.SetID(v)
		case "source":
			e.SetSource(v)
		case "type":
			e.SetType(v)
		case "subject":
			e.SetSubject(v)
		case "datacontenttype":
			e.SetDataContentType(v)
		case "dataschema":
			e.SetDataSchema(v)
		case "time":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return fmt.Errorf("%w: time %q is not RFC 3339", ErrMalformed, v)
			}
			e.SetTime(t)
		default:
			// An invalid extension name is recorded by the sdk and
			// reported by Validate.
			e.SetExtension(name, v)
		}
	}
	return nil
}

// encodeValue percent-encodes what the binding says must be: space, the
// double quote, the percent sign and anything outside printable ASCII.
func encodeValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// decodeValue undoes a double-quoted string, then percent-decoding, and
// refuses invalid UTF-8, in the order the binding prescribes.
func decodeValue(s string) (string, error) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("bad percent-encoding")
	}
	if !utf8.ValidString(v) {
		return "", errors.New("invalid UTF-8")
	}
	return v, nil
}

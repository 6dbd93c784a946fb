package events

import (
	"slices"
	"strings"
)

// Services lists every Lantern service that connects to the broker, by the
// name that is both its NATS identity and the last segment of its source.
func Services() []string {
	return []string{"intake", "router", "delivery", "ledger", "escalation", "workspace"}
}

// SourceOf is the CloudEvents source of the named service's events.
func SourceOf(service string) string { return "/lantern/" + service }

// ServiceOf is the service a Lantern source names, and false for a source
// that is not one of Lantern's services.
func ServiceOf(source string) (string, bool) {
	name, ok := strings.CutPrefix(source, "/lantern/")
	return name, ok && slices.Contains(Services(), name)
}

// Consumer declares one durable consumer: the service that runs it and the
// event types it receives. The provisioning step creates exactly these, and
// each service binds to its own; the broker lets a service fetch from and
// acknowledge on no other.
type Consumer struct {
	Durable string
	Service string
	// Types are the event types it receives; empty with All.
	Types []Type
	// All receives every event on sg.>, for the ledger.
	All bool
}

// Consumers lists every durable consumer of the events stream.
func Consumers() []Consumer {
	return []Consumer{
		{Durable: "router", Service: "router", Types: []Type{IncidentReported, TriageDecided}},
		// Delivery tells escalation's manager contacts of each alarm by
		// the notices' channels.
		{Durable: "delivery", Service: "delivery", Types: []Type{NotificationRequested, SLAAtRisk, SLABreached}},
		{Durable: "workspace", Service: "workspace", Types: []Type{NotificationRequested,
			NotificationDelivered, NotificationAcknowledged, TriageDecided}},
		{Durable: "escalation", Service: "escalation", Types: []Type{NotificationRequested,
			NotificationDelivered, NotificationAcknowledged, NotificationFailed, TriageDecided}},
		{Durable: "ledger", Service: "ledger", All: true},
	}
}

// ConsumerOf returns the durable consumer named durable.
func ConsumerOf(durable string) (Consumer, bool) {
	for _, c := range Consumers() {
		if c.Durable == durable {
			return c, true
		}
	}
	return Consumer{}, false
}

// Subjects are the consumer's subject filters, in the order of its types.
func (c Consumer) Subjects() []string {
	if c.All {
		return []string{"sg.>"}
	}
	out := make([]string, 0, len(c.Types))
	for _, t := range c.Types {
		f, _ := Filter(t) // the table holds catalogue types only
		out = append(out, f)
	}
	return out
}

// Receives reports whether the consumer is sent events of type t.
func (c Consumer) Receives(t Type) bool { return c.All || slices.Contains(c.Types, t) }

// PublishedBy lists the event types the named service may publish.
func PublishedBy(service string) []Type {
	var out []Type
	for _, s := range Catalogue() {
		if slices.Contains(s.Sources, SourceOf(service)) {
			out = append(out, s.Type)
		}
	}
	return out
}

// ConsumersOf lists the durable consumers the named service runs.
func ConsumersOf(service string) []Consumer {
	var out []Consumer
	for _, c := range Consumers() {
		if c.Service == service {
			out = append(out, c)
		}
	}
	return out
}

// TypeOfSubject returns the event type published on subject: its exact
// subject, or one of its recipient kinds' subjects.
func TypeOfSubject(subject string) (Spec, bool) {
	for _, s := range Catalogue() {
		if subject == s.SubjectPrefix && !s.PerRecipient {
			return s, true
		}
		kind, ok := strings.CutPrefix(subject, s.SubjectPrefix+".")
		if ok && s.PerRecipient && RecipientKind(kind).Valid() {
			return s, true
		}
	}
	return Spec{}, false
}

// Entitled reports whether source may publish events of type t.
func (s Spec) Entitled(source string) bool { return slices.Contains(s.Sources, source) }

// Package natsauth gives every Lantern service its own NATS identity with
// the least privilege it needs, derived from the event catalogue
// (pkg/events): a service may publish only the event types it is the
// source of, and fetch from and acknowledge on only its own durable
// consumer. Streams and consumers are declared by one provisioning
// identity; a read-only observer may read sg.> for tools and auditors.
//
// The identities are NATS decentralised JWTs: an operator signs a Lantern
// account and a system account, the Lantern account signs one user per
// identity. Servers hold only the operator's and accounts' JWTs (public
// keys and permissions, no secrets), so the same configuration installs on
// every server of a cluster, and a user is revoked by re-issuing the
// account JWT with a revocation, with no secret to change on the servers.
package natsauth

import (
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// Stream names, as pkg/bus declares them. They are repeated here, not
// imported, so that bus can depend on this package for its connection
// options; a test keeps the two in step.
const (
	eventsStream = "LANTERN_EVENTS"
	dlqStream    = "LANTERN_DLQ"
)

// The identities that are not services.
const (
	// Provisioner declares the streams and every durable consumer
	// (`lantern nats provision`), and reads and redrives dead letters. It
	// may not delete or purge a stream, nor delete a message or consumer.
	Provisioner = "provisioner"
	// Observer reads every event on sg.> and the events stream, and may
	// publish nothing but read-only JetStream requests.
	Observer = "observer"
)

// Identity is one NATS user and the subjects it may use.
type Identity struct {
	Name string
	// PublishAllow and PublishDeny are subject patterns; a subject not
	// allowed is refused, and deny wins over allow.
	PublishAllow, PublishDeny []string
	// SubscribeAllow and SubscribeDeny likewise for subscriptions.
	SubscribeAllow, SubscribeDeny []string
}

// Identities lists every identity: each service's, the provisioner's and
// the observer's.
func Identities() []Identity {
	var out []Identity
	for _, s := range events.Services() {
		out = append(out, ServiceIdentity(s))
	}
	return append(out, provisionerIdentity(), observerIdentity())
}

// Lookup returns the identity named name.
func Lookup(name string) (Identity, bool) {
	for _, id := range Identities() {
		if id.Name == name {
			return id, true
		}
	}
	return Identity{}, false
}

// InboxPrefix is the inbox prefix the named identity's client must use
// (nats.CustomInboxPrefix): each identity may subscribe only to its own
// inboxes, so that no identity reads the replies, and so the messages
// fetched from a consumer, of another.
func InboxPrefix(name string) string { return "_INBOX_" + name }

const api = "$JS.API."

// ServiceIdentity is what the named service may do: publish its own event
// types, read the events stream's state and, for each durable consumer it
// runs, read the consumer, fetch from it, acknowledge on it, read the last
// message on its subjects (to tell when it has caught up) and dead-letter
// to dlq.<durable>.
func ServiceIdentity(service string) Identity {
	id := Identity{Name: service, SubscribeAllow: []string{InboxPrefix(service) + ".>"}}
	for _, t := range events.PublishedBy(service) {
		id.PublishAllow = append(id.PublishAllow, publishSubject(t))
	}
	for _, c := range events.ConsumersOf(service) {
		id.PublishAllow = append(id.PublishAllow, consumerSubjects(c)...)
	}
	// The stream's state, never a message: consumers tell from it when
	// they have caught up, and outbox relays when the stream moved back
	// and lost what they published.
	if len(events.ConsumersOf(service)) > 0 || len(events.PublishedBy(service)) > 0 {
		id.PublishAllow = append(id.PublishAllow, api+"STREAM.INFO."+eventsStream)
	}
	return id
}

// publishSubject is the pattern of t's subjects: one token for the
// recipient kind, which is how events.Subject builds them.
func publishSubject(t events.Type) string {
	spec, _ := events.Lookup(t)
	if spec.PerRecipient {
		return spec.SubjectPrefix + ".*"
	}
	return spec.SubjectPrefix
}

func consumerSubjects(c events.Consumer) []string {
	d := c.Durable
	out := []string{
		api + "CONSUMER.INFO." + eventsStream + "." + d,
		api + "CONSUMER.MSG.NEXT." + eventsStream + "." + d,
		// Acknowledgements, in the server's v1 and v2 reply formats.
		"$JS.ACK." + eventsStream + "." + d + ".>",
		"$JS.ACK.*.*." + eventsStream + "." + d + ".>",
		"dlq." + d,
	}
	for _, s := range c.Subjects() {
		out = append(out, api+"DIRECT.GET."+eventsStream+"."+s)
	}
	return out
}

func provisionerIdentity() Identity {
	return Identity{
		Name: Provisioner,
		// Declaring streams and consumers, reading them, and redriving a
		// dead letter: re-publishing it on its own subject and marking it.
		PublishAllow: []string{api + ">", "sg.>", "dlq.>"},
		PublishDeny: []string{api + "STREAM.DELETE.>", api + "STREAM.PURGE.>",
			api + "STREAM.MSG.DELETE.>", api + "CONSUMER.DELETE.>", api + "STREAM.RESTORE.>",
			api + "ACCOUNT.PURGE.>", api + "META.>", api + "SERVER.>", api + "STREAM.PEER.>"},
		SubscribeAllow: []string{InboxPrefix(Provisioner) + ".>"},
	}
}

func observerIdentity() Identity {
	s := eventsStream
	id := Identity{
		Name: Observer,
		PublishAllow: []string{
			api + "INFO", api + "STREAM.NAMES", api + "STREAM.INFO." + s,
			api + "STREAM.MSG.GET." + s, api + "DIRECT.GET." + s, api + "DIRECT.GET." + s + ".>",
			// Its own ephemeral and ordered consumers, for reading the
			// stream from the start; never a service's durable (below).
			api + "CONSUMER.CREATE." + s, api + "CONSUMER.CREATE." + s + ".*",
			api + "CONSUMER.CREATE." + s + ".*.>", api + "CONSUMER.INFO." + s + ".*",
			api + "CONSUMER.MSG.NEXT." + s + ".*",
		},
		SubscribeAllow: []string{"sg.>", InboxPrefix(Observer) + ".>"},
	}
	for _, c := range events.Consumers() {
		d := c.Durable
		id.PublishDeny = append(id.PublishDeny, api+"CONSUMER.CREATE."+s+"."+d, api+"CONSUMER.CREATE."+s+"."+d+".>",
			api+"CONSUMER.INFO."+s+"."+d, api+"CONSUMER.MSG.NEXT."+s+"."+d)
	}
	return id
}

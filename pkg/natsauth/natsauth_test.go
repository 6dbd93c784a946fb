package natsauth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
)

// refusals collects the permission violations a connection is told of.
type refusals struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *refusals) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[strings.ToLower(err.Error())] = true
}

func (r *refusals) has(op, subject string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[strings.ToLower(fmt.Sprintf("nats: permissions violation: permissions violation for %s to %q", op, subject))]
}

func connectAs(t *testing.T, s *natstest.Server, name string) (*nats.Conn, *refusals) {
	r := &refusals{seen: map[string]bool{}}
	return s.ConnectAs(t, name, nats.ErrorHandler(r.handler)), r
}

// everySubject is every event subject: each type, and each per-recipient
// type for every kind of the contract.
func everySubject() []string {
	var out []string
	for _, s := range events.Catalogue() {
		if !s.PerRecipient {
			out = append(out, s.SubjectPrefix)
			continue
		}
		for _, k := range events.RecipientKinds() {
			out = append(out, s.SubjectPrefix+"."+string(k))
		}
	}
	return out
}

// owns is the catalogue's word on who may publish a subject, written
// independently of the permissions under test: a service the source of the
// subject's type, and the provisioner, which redrives dead letters.
func owns(identity, subject string) bool {
	spec, ok := events.TypeOfSubject(subject)
	if !ok {
		return false
	}
	return identity == natsauth.Provisioner || spec.Entitled(events.SourceOf(identity))
}

func provision(t *testing.T, s *natstest.Server) jetstream.JetStream {
	t.Helper()
	nc := s.ConnectAs(t, natsauth.Provisioner)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Provision(context.Background(), js, bus.StreamOptions{}, time.Minute); err != nil {
		t.Fatal(err)
	}
	return js
}

func TestStreamNamesAreBus(t *testing.T) {
	id := natsauth.ServiceIdentity("router")
	want := "$JS.API.CONSUMER.MSG.NEXT." + bus.EventsStream + ".router"
	found := false
	for _, p := range id.PublishAllow {
		found = found || p == want
	}
	if !found {
		t.Fatalf("the router may not fetch from %s; permissions %v", want, id.PublishAllow)
	}
}

func TestAnonymousAndWrongCredentialsAreRefused(t *testing.T) {
	s := natstest.RunSecured(t)
	_, err := nats.Connect(s.URL())
	if err == nil || !strings.Contains(err.Error(), "Authorization Violation") && !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("anonymous client: err = %v, want an authorization violation", err)
	}
	// A well-formed identity signed by another operator's account.
	other := natstest.RunSecured(t)
	_, err = nats.Connect(s.URL(), nats.UserCredentials(natsauth.CredsFile(other.CredsDir(), "router")))
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("credentials of another account: err = %v, want %v", err, nats.ErrAuthorization)
	}
	// Expired credentials.
	id, _ := natsauth.Lookup("router")
	creds, err := s.Authority().UserCreds(id, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = nats.Connect(s.URL(), nats.UserJWTAndSeed(parseCreds(t, creds)))
	if err == nil {
		t.Fatal("expired credentials were accepted")
	}
}

func parseCreds(t *testing.T, creds []byte) (string, string) {
	t.Helper()
	token, err := jwtFrom(creds)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeysFrom(creds)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	return token, string(seed)
}

// TestEveryIdentityPublishesAndSubscribesOnlyWhatItOwns is F18's table:
// every identity against every event subject, publishing and subscribing.
func TestEveryIdentityPublishesAndSubscribesOnlyWhatItOwns(t *testing.T) {
	s := natstest.RunSecured(t)
	provision(t, s)
	observer, _ := connectAs(t, s, natsauth.Observer)
	arrived := map[string]int{}
	var mu sync.Mutex
	if _, err := observer.Subscribe("sg.>", func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		arrived[m.Header.Get("From")+" "+m.Subject]++
	}); err != nil {
		t.Fatal(err)
	}
	if err := observer.Flush(); err != nil {
		t.Fatal(err)
	}
	subjects := everySubject()
	checks := 0
	for _, id := range natsauth.Identities() {
		nc, refused := connectAs(t, s, id.Name)
		for _, subject := range subjects {
			msg := &nats.Msg{Subject: subject, Header: nats.Header{"From": []string{id.Name}}, Data: []byte("{}")}
			if err := nc.PublishMsg(msg); err != nil {
				t.Fatal(err)
			}
			if _, err := nc.SubscribeSync(subject); err != nil {
				t.Fatal(err)
			}
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			for _, subject := range subjects {
				if !owns(id.Name, subject) && !refused.has("publish", subject) {
					return fmt.Errorf("%s publishing %s: no refusal", id.Name, subject)
				}
				if id.Name != natsauth.Observer && !refused.has("subscription", subject) {
					return fmt.Errorf("%s subscribing to %s: no refusal", id.Name, subject)
				}
			}
			return nil
		})
		for _, subject := range subjects {
			checks += 2
			if owns(id.Name, subject) && refused.has("publish", subject) {
				t.Errorf("%s was refused publishing %s, which it owns", id.Name, subject)
			}
			if id.Name == natsauth.Observer && refused.has("subscription", subject) {
				t.Errorf("the observer was refused reading %s", subject)
			}
		}
	}
	// What reached sg.> is exactly what the catalogue entitles.
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range natsauth.Identities() {
			for _, subject := range subjects {
				got, want := arrived[id.Name+" "+subject], 0
				if owns(id.Name, subject) {
					want = 1
				}
				if got != want {
					return fmt.Errorf("%s on %s: %d messages reached sg.>, want %d", id.Name, subject, got, want)
				}
			}
		}
		return nil
	})
	t.Logf("%d identities x %d subjects x publish and subscribe: %d checks", len(natsauth.Identities()), len(subjects), checks)
}

// TestConsumersFetchAndAckOnlyTheirOwnDurable: every service can read and
// fetch from its own durable, and is refused every other.
func TestConsumersFetchAndAckOnlyTheirOwnDurable(t *testing.T) {
	s := natstest.RunSecured(t)
	provision(t, s)
	ctx := context.Background()
	for _, service := range events.Services() {
		nc, refused := connectAs(t, s, service)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range events.Consumers() {
			own := c.Service == service
			if own {
				qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if _, err := js.Consumer(qctx, bus.EventsStream, c.Durable); err != nil {
					t.Errorf("%s reading its own consumer %s: %v", service, c.Durable, err)
				}
				cancel()
			}
			api := []string{"$JS.API.CONSUMER.INFO." + bus.EventsStream + "." + c.Durable,
				"$JS.API.CONSUMER.MSG.NEXT." + bus.EventsStream + "." + c.Durable,
				"$JS.ACK." + bus.EventsStream + "." + c.Durable + ".1.1.1.1.0"}
			for _, subject := range api {
				if err := nc.PublishRequest(subject, nc.NewInbox(), []byte(`{"batch":1,"no_wait":true}`)); err != nil {
					t.Fatal(err)
				}
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
				for _, subject := range api {
					if !own && !refused.has("publish", subject) {
						return fmt.Errorf("%s on %s: no refusal", service, subject)
					}
				}
				return nil
			})
			for _, subject := range api {
				if own && refused.has("publish", subject) {
					t.Errorf("%s was refused %s on its own consumer", service, subject)
				}
			}
		}
	}
}

// TestNoIdentityCanDeleteOrPurgeAStream tries every identity on both
// streams; the streams and their messages survive.
func TestNoIdentityCanDeleteOrPurgeAStream(t *testing.T) {
	s := natstest.RunSecured(t)
	admin := provision(t, s)
	ctx := context.Background()
	if _, err := admin.Publish(ctx, "sg.incident.reported", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	var destructive []string
	for _, stream := range []string{bus.EventsStream, bus.DeadLetterStream} {
		for _, op := range []string{"STREAM.DELETE.", "STREAM.PURGE.", "STREAM.MSG.DELETE."} {
			destructive = append(destructive, "$JS.API."+op+stream)
		}
	}
	for _, c := range events.Consumers() {
		destructive = append(destructive, "$JS.API.CONSUMER.DELETE."+bus.EventsStream+"."+c.Durable)
	}
	for _, id := range natsauth.Identities() {
		nc, refused := connectAs(t, s, id.Name)
		for _, subject := range destructive {
			if err := nc.PublishRequest(subject, nc.NewInbox(), []byte(`{"seq":1}`)); err != nil {
				t.Fatal(err)
			}
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
			for _, subject := range destructive {
				if !refused.has("publish", subject) {
					return fmt.Errorf("%s on %s: no refusal", id.Name, subject)
				}
			}
			return nil
		})
	}
	for _, c := range events.Consumers() {
		if _, err := admin.Consumer(ctx, bus.EventsStream, c.Durable); err != nil {
			t.Errorf("consumer %s: %v", c.Durable, err)
		}
	}
	info, err := admin.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("events stream holds %d messages, want 1", n)
	}
}

func TestObserverReadsTheStreamAndChangesNothing(t *testing.T) {
	s := natstest.RunSecured(t)
	admin := provision(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Publish(ctx, "sg.incident.reported", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	nc, refused := connectAs(t, s, natsauth.Observer)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"sg.>"}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil || string(msg.Data()) != `{"n":1}` {
		t.Fatalf("reading the stream from the start: %v", err)
	}
	short := func() context.Context {
		c, stop := context.WithTimeout(ctx, time.Second)
		t.Cleanup(stop)
		return c
	}
	if _, err := js.Publish(short(), "sg.incident.reported", []byte("{}")); err == nil {
		t.Error("the observer published an event")
	}
	// Taking over a service's durable would steal its messages.
	if _, err := js.CreateOrUpdateConsumer(short(), bus.EventsStream, jetstream.ConsumerConfig{Durable: "router", FilterSubject: "sg.>"}); err == nil {
		t.Error("the observer changed the router's consumer")
	}
	if err := js.DeleteStream(short(), bus.EventsStream); err == nil {
		t.Error("the observer deleted the events stream")
	}
	if err := js.DeleteConsumer(short(), bus.EventsStream, "router"); err == nil {
		t.Error("the observer deleted the router's consumer")
	}
	for _, subject := range []string{"sg.incident.reported", "$JS.API.STREAM.DELETE." + bus.EventsStream,
		"$JS.API.CONSUMER.DELETE." + bus.EventsStream + ".router"} {
		natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
			if !refused.has("publish", subject) {
				return fmt.Errorf("observer publishing %s: no refusal", subject)
			}
			return nil
		})
	}
}

func TestRevokedCredentialsAreRefused(t *testing.T) {
	s := natstest.RunSecured(t)
	closed := make(chan error, 1)
	nc, err := nats.Connect(s.URL(), nats.UserCredentials(natsauth.CredsFile(s.CredsDir(), "router")),
		nats.ReconnectWait(10*time.Millisecond), nats.MaxReconnects(-1),
		nats.ClosedHandler(func(c *nats.Conn) { closed <- c.LastError() }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	creds := mustRead(t, natsauth.CredsFile(s.CredsDir(), "router"))
	if err := s.Authority().Revoke(creds); err != nil {
		t.Fatal(err)
	}
	s.InstallAccounts(t)
	select {
	case err := <-closed:
		if !errors.Is(err, nats.ErrAuthRevoked) && !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("revoked connection closed with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the revoked router is still connected (status %v)", nc.Status())
	}
	if _, err := nats.Connect(s.URL(), nats.UserCredentials(natsauth.CredsFile(s.CredsDir(), "router"))); err == nil {
		t.Fatal("revoked credentials were accepted on a new connection")
	}
	// Credentials issued afresh for the same identity work.
	id, _ := natsauth.Lookup("router")
	if err := s.Authority().IssueOne(id, 0); err != nil {
		t.Fatal(err)
	}
	s.ConnectAs(t, "router")
}

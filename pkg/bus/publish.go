package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
)

// Publisher publishes CloudEvents to the events stream.
type Publisher struct {
	js jetstream.JetStream
}

// NewPublisher returns a publisher on js.
func NewPublisher(js jetstream.JetStream) *Publisher { return &Publisher{js: js} }

// Publish sends e on subject and waits for the stream's acknowledgement. The
// event id doubles as Nats-Msg-Id, so a retried publish of the same event is
// dropped by the stream (PubAck.Duplicate) rather than stored twice.
func (p *Publisher) Publish(ctx context.Context, e cloudevent.Event, subject string) (*jetstream.PubAck, error) {
	msg, err := cloudevent.ToMsg(e, subject)
	if err != nil {
		return nil, err
	}
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID()), jetstream.WithExpectStream(EventsStream))
	if err != nil {
		return nil, fmt.Errorf("publishing %s %s: %w", e.Type(), e.ID(), err)
	}
	return ack, nil
}

// PublishAsync starts publishing e and returns a future for its
// acknowledgement, so that a batch can be in flight at once.
func (p *Publisher) PublishAsync(e cloudevent.Event, subject string) (jetstream.PubAckFuture, error) {
	msg, err := cloudevent.ToMsg(e, subject)
	if err != nil {
		return nil, err
	}
	f, err := p.js.PublishMsgAsync(msg, jetstream.WithMsgID(e.ID()), jetstream.WithExpectStream(EventsStream))
	if err != nil {
		return nil, fmt.Errorf("publishing %s %s: %w", e.Type(), e.ID(), err)
	}
	return f, nil
}

// Conn is the NATS connection the publisher sends on, for watching it
// reconnect: a broker that restarted may have lost the writes it had not
// synced yet.
func (p *Publisher) Conn() *nats.Conn { return p.js.Conn() }

// StreamInfo reads the events stream's configuration and state, from which
// a publisher tells whether the stream moved back (its last sequence below
// one it acknowledged) or was created anew.
func (p *Publisher) StreamInfo(ctx context.Context) (*jetstream.StreamInfo, error) {
	s, err := p.js.Stream(ctx, EventsStream)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", EventsStream, err)
	}
	return s.CachedInfo(), nil
}

package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
)

// Consumers are the durable consumers of the police-to-inbox path, named
// as each service declares them.
var Consumers = []string{"router", "delivery", "ledger"}

// Broker reads JetStream's side of a run: the streams' contents, the
// dead-letter stream and the consumers' backlog.
type Broker struct {
	JS jetstream.JetStream
}

// StreamDuplicates counts messages in the events stream whose Nats-Msg-Id
// was stored before: re-publishes that deduplication did not catch.
func (b Broker) StreamDuplicates(ctx context.Context) (int, error) {
	seen := map[string]bool{}
	dups := 0
	err := b.each(ctx, bus.EventsStream, true, func(m jetstream.Msg) {
		id := m.Headers().Get(nats.MsgIdHdr)
		if id == "" {
			return
		}
		if seen[id] {
			dups++
		}
		seen[id] = true
	})
	return dups, err
}

// DeadLetter is one message in the dead-letter stream.
type DeadLetter struct {
	Consumer  string
	StreamSeq string
	Reason    string
}

// DeadLetters lists the dead-letter stream.
func (b Broker) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	var out []DeadLetter
	err := b.each(ctx, bus.DeadLetterStream, true, func(m jetstream.Msg) {
		out = append(out, DeadLetter{Consumer: strings.TrimPrefix(m.Subject(), bus.DeadLetterPrefix),
			StreamSeq: m.Headers().Get(bus.HeaderDLQStreamSeq), Reason: m.Headers().Get(bus.HeaderDLQReason)})
	})
	return out, err
}

// each reads every message of stream stored so far, in order.
func (b Broker) each(ctx context.Context, stream string, headersOnly bool, f func(jetstream.Msg)) error {
	s, err := b.JS.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("looking up stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", stream, err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{HeadersOnly: headersOnly})
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", stream, err)
	}
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("reading stream %s: %w", stream, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			f(m)
			if meta, err := m.Metadata(); err == nil && meta.Sequence.Stream >= last {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("reading stream %s: %w", stream, err)
		}
		if n == 0 {
			return fmt.Errorf("reading stream %s: no messages before sequence %d", stream, last)
		}
	}
}

// Lag returns each consumer's messages waiting plus those delivered and not
// yet acknowledged.
func (b Broker) Lag(ctx context.Context) (map[string]uint64, error) {
	lag := map[string]uint64{}
	for _, name := range Consumers {
		info, err := b.consumerInfo(ctx, name)
		if err != nil {
			return nil, err
		}
		lag[name] = info.NumPending + uint64(info.NumAckPending)
	}
	return lag, nil
}

// consumerInfo reads the state of one of Lantern's consumers.
func (b Broker) consumerInfo(ctx context.Context, name string) (*jetstream.ConsumerInfo, error) {
	c, err := b.JS.Consumer(ctx, bus.EventsStream, name)
	if err != nil {
		return nil, fmt.Errorf("looking up consumer %s: %w", name, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading consumer %s: %w", name, err)
	}
	return info, nil
}

// Deliveries is one consumer's delivery count next to the number of
// messages its filter matches in the stream.
type Deliveries struct {
	// Delivered counts every delivery, redeliveries included: the
	// consumer's sequence number.
	Delivered uint64
	// Messages counts the stream's messages the consumer is meant to see
	// and has been given at least once: those matching its filter, less
	// those still waiting.
	Messages uint64
}

// Redeliveries is how many more deliveries than messages given there were
// between earlier and d. A negative result means the broker forgot
// deliveries, as it may when killed before writing the consumer's state.
func (d Deliveries) Redeliveries(earlier Deliveries) int64 {
	return int64(d.Delivered-earlier.Delivered) - int64(d.Messages-earlier.Messages)
}

// Deliveries reads every consumer's delivery count and the number of
// messages it has been given; the difference is how often it redelivered.
// Messages published while it reads make the figure approximate; it is
// exact when nothing is being published.
func (b Broker) Deliveries(ctx context.Context) (map[string]Deliveries, error) {
	s, err := b.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		return nil, fmt.Errorf("looking up stream %s: %w", bus.EventsStream, err)
	}
	out := map[string]Deliveries{}
	for _, name := range Consumers {
		info, err := b.consumerInfo(ctx, name)
		if err != nil {
			return nil, err
		}
		d := Deliveries{Delivered: info.Delivered.Consumer}
		var matched uint64
		filters := info.Config.FilterSubjects
		if info.Config.FilterSubject != "" {
			filters = append(filters, info.Config.FilterSubject)
		}
		for _, filter := range filters {
			n, err := matching(ctx, s, filter)
			if err != nil {
				return nil, err
			}
			matched += n
		}
		d.Messages = matched - min(matched, info.NumPending)
		out[name] = d
	}
	return out, nil
}

// matching counts the stream's messages on subjects matching filter.
func matching(ctx context.Context, s jetstream.Stream, filter string) (uint64, error) {
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return 0, fmt.Errorf("counting messages on %s: %w", filter, err)
	}
	var n uint64
	for _, count := range info.State.Subjects {
		n += count
	}
	return n, nil
}

// Idle reports nil once no consumer has anything waiting or unacknowledged.
func (b Broker) Idle(ctx context.Context) error {
	lag, err := b.Lag(ctx)
	if err != nil {
		return err
	}
	for name, n := range lag {
		if n > 0 {
			return fmt.Errorf("consumer %s has %d messages outstanding", name, n)
		}
	}
	return nil
}

// NATS fills the broker half of the configuration, but for its sync
// interval, which the server does not report over the client protocol.
func (b Broker) NATS(ctx context.Context, nc *nats.Conn, cfg *Config) error {
	cfg.NATSVersion = nc.ConnectedServerVersion()
	s, err := b.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		return fmt.Errorf("looking up stream %s: %w", bus.EventsStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", bus.EventsStream, err)
	}
	cfg.NATSReplicas = info.Config.Replicas
	cfg.NATSStorage = info.Config.Storage.String()
	return nil
}

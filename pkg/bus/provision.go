package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// Provision declares the streams and every durable consumer of the event
// catalogue (events.Consumers), each with ackWait. It is the provisioning
// identity's step (`lantern nats provision`, or make run's and the test
// clusters' first-start step); services bind to what it declared. Running
// it again updates what changed and keeps every consumer's position.
func Provision(ctx context.Context, js jetstream.JetStream, o StreamOptions, ackWait time.Duration) error {
	if err := EnsureStreams(ctx, js, o); err != nil {
		return err
	}
	for _, c := range events.Consumers() {
		cfg := consumerConfig(ConsumerSpec{Durable: c.Durable, Subjects: c.Subjects(), AckWait: ackWait})
		if _, err := js.CreateOrUpdateConsumer(ctx, EventsStream, cfg); err != nil {
			return fmt.Errorf("declaring consumer %s: %w", c.Durable, err)
		}
	}
	return nil
}

func consumerConfig(spec ConsumerSpec) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        spec.Durable,
		FilterSubjects: spec.Subjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        spec.AckWait,
		// Lantern counts deliveries itself so that nothing is ever left
		// silently in the stream: past MaxDeliver it dead-letters.
		MaxDeliver:    -1,
		MaxAckPending: 1000,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// ErrConsumerMismatch is returned when a provisioned consumer's subjects
// are not those the service handles.
var ErrConsumerMismatch = errors.New("the provisioned consumer does not match the service")

// bindConsumer declares spec's consumer, or for a provisioned one waits
// until it exists and checks that it receives what the service handles.
func bindConsumer(ctx context.Context, js jetstream.JetStream, spec *ConsumerSpec, log *zap.Logger) (jetstream.Consumer, error) {
	if !spec.Provisioned {
		cons, err := js.CreateOrUpdateConsumer(ctx, EventsStream, consumerConfig(*spec))
		if err != nil {
			return nil, fmt.Errorf("declaring consumer %s: %w", spec.Durable, err)
		}
		return cons, nil
	}
	cons, err := waitForConsumer(ctx, js, spec.Durable, log)
	if err != nil {
		return nil, err
	}
	cfg := cons.CachedInfo().Config
	if !sameSubjects(cfg.FilterSubjects, cfg.FilterSubject, spec.Subjects) {
		return nil, fmt.Errorf("consumer %s receives %v but the service handles %v (run `lantern nats provision`): %w",
			spec.Durable, append(cfg.FilterSubjects, cfg.FilterSubject), spec.Subjects, ErrConsumerMismatch)
	}
	spec.AckWait = cfg.AckWait
	return cons, nil
}

func sameSubjects(filters []string, filter string, want []string) bool {
	if filter != "" {
		filters = append(filters, filter)
	}
	a, b := slices.Clone(filters), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func waitForConsumer(ctx context.Context, js jetstream.JetStream, durable string, log *zap.Logger) (jetstream.Consumer, error) {
	warned := false
	for {
		cons, err := js.Consumer(ctx, EventsStream, durable)
		if err == nil {
			return cons, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			return nil, fmt.Errorf("binding consumer %s: %w", durable, err)
		}
		if !warned {
			log.Warn("waiting for the consumer to be provisioned", zap.String("consumer", durable), zap.Error(err))
			warned = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for consumer %s to be provisioned: %w", durable, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

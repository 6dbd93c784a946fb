package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// WaitCaughtUp returns once the durable consumer of spec has applied and
// acknowledged every message on its subjects that was in the stream when
// WaitCaughtUp was called. It judges by the consumer's acknowledgement
// floor against the stream's last matching sequence, rather than by the
// consumer's pending count, because a consumer that has only just been made
// can report nothing pending before it has counted. It returns ctx's error
// if that does not happen before ctx ends.
func WaitCaughtUp(ctx context.Context, js jetstream.JetStream, spec ConsumerSpec, poll time.Duration) error {
	target, err := lastSequence(ctx, js, spec.Subjects)
	if err != nil {
		return err
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		caughtUp, err := consumerCaughtUp(ctx, js, spec.Durable, target)
		if err != nil {
			return err
		}
		if caughtUp {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for consumer %s to catch up: %w", spec.Durable, ctx.Err())
		case <-ticker.C:
		}
	}
}

// lastSequence returns the stream sequence of the last message on any of
// subjects, or zero when there is none.
func lastSequence(ctx context.Context, js jetstream.JetStream, subjects []string) (uint64, error) {
	stream, err := js.Stream(ctx, EventsStream)
	if err != nil {
		return 0, fmt.Errorf("looking up stream %s: %w", EventsStream, err)
	}
	var last uint64
	for _, subject := range subjects {
		msg, err := stream.GetLastMsgForSubject(ctx, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("finding the last message on %s: %w", subject, err)
		}
		last = max(last, msg.Sequence)
	}
	return last, nil
}

// consumerCaughtUp reports whether durable has acknowledged everything up
// to stream sequence target and has nothing awaiting acknowledgement. A
// consumer that does not exist yet has not caught up; the error is kept for
// other failures.
func consumerCaughtUp(ctx context.Context, js jetstream.JetStream, durable string, target uint64) (bool, error) {
	cons, err := js.Consumer(ctx, EventsStream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false, nil
	}
	if err != nil {
		return false, ignoreTimeout(ctx, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return false, ignoreTimeout(ctx, err)
	}
	return info.NumAckPending == 0 && info.AckFloor.Stream >= target, nil
}

// ignoreTimeout treats a JetStream request that timed out while ctx is
// still live as "not yet", because the server may simply be busy.
func ignoreTimeout(ctx context.Context, err error) error {
	if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)) {
		return nil
	}
	return fmt.Errorf("reading consumer progress: %w", err)
}

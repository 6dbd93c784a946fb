// Package app wires the escalation service: it consumes the notification
// and triage events into its deadline state, ticks the scheduler that raises
// sla.at_risk and sla.breached, and relays those events through its outbox.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/config"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/contacts"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

// Service is the escalation service as the service environment runs it.
var Service = serverenv.Service[config.Config]{Name: "escalation", Options: options, Build: build}

// Run watches deadlines until ctx ends.
func Run(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	return serverenv.Run(ctx, log, Service, cfg)
}

func options(cfg *config.Config) serverenv.Options {
	return serverenv.Options{AdminAddr: cfg.AdminAddr, Shutdown: cfg.Shutdown, Database: &cfg.Database, NATS: &cfg.NATS}
}

func build(ctx context.Context, env *serverenv.Env, cfg *config.Config) error {
	ref, err := refdata.NewStore(cfg.Reference.Dir, env.Log)
	if err != nil {
		return err
	}
	book, err := contacts.NewStore(cfg.Reference.Dir, env.Log)
	if err != nil {
		return err
	}
	esc := sla.New(env.DB, sla.Options{Clock: clock.System, Rules: cfg.Rules(), Reference: ref.Current,
		Contacts: book.Current, Log: env.Log})
	if err := env.Migrate(ctx, esc.Migrate); err != nil {
		return err
	}
	env.Consume(ConsumerSpec(cfg), esc.Handle)
	env.Relay(esc.Outbox())
	env.Go("reference data", func(ctx context.Context) error { ref.Watch(ctx, cfg.Reference.Poll); return nil })
	env.Go("escalation contacts", func(ctx context.Context) error { book.Watch(ctx, cfg.Reference.Poll); return nil })
	env.Go("scheduler", func(ctx context.Context) error {
		startScheduler(ctx, env.JS, cfg, esc, env.Log)
		return nil
	})
	return nil
}

// ConsumerSpec is the escalation service's durable consumer.
func ConsumerSpec(cfg *config.Config) bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: sla.Consumer, Subjects: sla.Subjects(), AckWait: cfg.Consumer.AckWait}
}

// startScheduler lets the consumer catch up before the first tick, so that
// a delivery made while the service was down is applied before its
// deadline is judged, then ticks until ctx ends. If catching up takes longer
// than cfg.CatchUp the scheduler starts anyway: a late false alarm is better
// than a missed one.
func startScheduler(ctx context.Context, js jetstream.JetStream, cfg *config.Config, esc *sla.Escalator, log *zap.Logger) {
	waitCtx, cancel := context.WithTimeout(ctx, cfg.CatchUp)
	err := WaitCaughtUp(waitCtx, js, ConsumerSpec(cfg), catchUpPoll)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		log.Warn("starting the scheduler before the consumer caught up", zap.Error(err))
	}
	esc.Run(ctx, cfg.Tick)
}

// catchUpPoll is how often WaitCaughtUp asks JetStream for the consumer's
// progress.
const catchUpPoll = 200 * time.Millisecond

// WaitCaughtUp returns once the durable consumer of spec has applied and
// acknowledged every message on its subjects that was in the stream when
// WaitCaughtUp was called. It judges by the consumer's acknowledgement
// floor against the stream's last matching sequence, rather than by the
// consumer's pending count, because a consumer that has only just been made
// can report nothing pending before it has counted. It returns ctx's error
// if that does not happen before ctx ends.
func WaitCaughtUp(ctx context.Context, js jetstream.JetStream, spec bus.ConsumerSpec, poll time.Duration) error {
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
	stream, err := js.Stream(ctx, bus.EventsStream)
	if err != nil {
		return 0, fmt.Errorf("looking up stream %s: %w", bus.EventsStream, err)
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
	cons, err := js.Consumer(ctx, bus.EventsStream, durable)
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

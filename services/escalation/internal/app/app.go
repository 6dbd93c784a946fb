// Package app wires the escalation service: it consumes the notification
// and triage events into its deadline state, ticks the scheduler that raises
// sla.at_risk and sla.breached, and relays those events through its outbox.
package app

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/config"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/contacts"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

// Service is the escalation service as the service environment runs it.
var Service = serverenv.Service[config.Config]{Name: "escalation", Build: build}

func build(ctx context.Context, env *serverenv.Env, cfg *config.Config) error {
	ref, err := env.Reference(cfg.Reference)
	if err != nil {
		return err
	}
	book, err := contacts.NewStore(cfg.Reference.Dir, env.Log)
	if err != nil {
		return err
	}
	esc := sla.New(env.DB, sla.Options{Clock: clock.System, Rules: cfg.Rules(), Reference: ref.Current,
		Contacts: book.Current, Log: env.Log, IDs: cloudevent.KeyedIDs(cfg.EventIDs.Key)})
	if err := env.Migrate(ctx, esc.Migrate); err != nil {
		return err
	}
	spec := ConsumerSpec(cfg)
	spec.Batch = esc.Batch(cfg.Consumer.Batch)
	env.Consume(spec, esc.Handle)
	env.Relay(esc.Outbox())
	env.Metrics.MustRegister(newDeadlineMetrics(env.DB, ref.Current))
	env.Watch("escalation contacts", cfg.Reference.Poll, book)
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
	err := bus.WaitCaughtUp(waitCtx, js, ConsumerSpec(cfg), catchUpPoll)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		log.Warn("starting the scheduler before the consumer caught up", zap.Error(err))
	}
	esc.Run(ctx, cfg.Tick)
}

// catchUpPoll is how often the scheduler asks JetStream for the
// consumer's progress while it waits to start.
const catchUpPoll = 200 * time.Millisecond

// Package app wires the delivery service: it consumes
// notification.requested, fills inboxes and relays notification.delivered,
// or notification.failed for a request it has given up on.
package app

import (
	"context"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/config"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

// Service is the delivery service as the service environment runs it.
var Service = serverenv.Service[config.Config]{Name: "delivery", Build: build}

func build(ctx context.Context, env *serverenv.Env, cfg *config.Config) error {
	sealer, err := env.Sealer(ctx)
	if err != nil {
		return err
	}
	d := inbox.New(env.DB, sealer, clock.System, env.Log)
	d.IDs = cloudevent.KeyedIDs(cfg.EventIDs.Key)
	if err := env.Migrate(ctx, d.Migrate); err != nil {
		return err
	}
	env.Consume(d.ConsumerSpec(cfg.Consumer.AckWait), d.Handle)
	env.Relay(d.Outbox(), newDeliveryMetrics(env.Metrics).published)
	return nil
}

// Package app wires the delivery service: it consumes
// notification.requested, fills inboxes and relays notification.delivered,
// or notification.failed for a request it has given up on.
package app

import (
	"context"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/config"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

// Run delivers until ctx ends.
func Run(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	d := inbox.New(pool, clock.System, log)
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	nc, js, err := bus.Connect(ctx, cfg.NATSURL, "lantern-delivery", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return err
	}
	spec := d.ConsumerSpec(cfg.AckWait)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return bus.Consume(ctx, js, spec, d.Handle, log) })
	g.Go(func() error { return d.Outbox().NewRelay(pool, bus.NewPublisher(js), log).Run(ctx) })
	return g.Wait()
}

// Package app wires the router: it consumes incident.reported and
// triage.decided, decides the notices with the routing policy in force,
// and relays notification.requested through its outbox.
package app

import (
	"context"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/router/internal/config"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
	"github.com/lantern-safeguarding/lantern/services/router/internal/store"
)

// Run routes until ctx ends.
func Run(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	ref, err := refdata.NewStore(cfg.ReferenceDir, log)
	if err != nil {
		return err
	}
	pol, err := policy.NewWatcher(cfg.PolicyFile, log, ref.Current)
	if err != nil {
		return err
	}
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	nc, js, err := bus.Connect(ctx, cfg.NATSURL, "lantern-router", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return err
	}
	h := NewHandler(pol.Current, ref.Current, st, routing.NewHasher(cfg.MatchKey), log)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return bus.Consume(ctx, js, ConsumerSpec(cfg), h.Handle, log) })
	g.Go(func() error { return st.Outbox().NewRelay(pool, bus.NewPublisher(js), log).Run(ctx) })
	g.Go(func() error { ref.Watch(ctx, cfg.PolicyPoll); return nil })
	g.Go(func() error { pol.Watch(ctx, cfg.PolicyPoll); return nil })
	return g.Wait()
}

// NewHandler builds the router's event handler on the policy and
// reference data in force.
func NewHandler(pol func() *policy.Policy, ref func() *refdata.Set, st routing.Store, hasher routing.Hasher, log *zap.Logger) *routing.Handler {
	return &routing.Handler{
		Decider:            &routing.Router{Policy: pol, Reference: ref},
		Store:              st,
		Hasher:             hasher,
		RepeatWindowMonths: func() int { return pol().RepeatWindowMonths },
		Log:                log,
	}
}

// ConsumerSpec is the router's durable consumer: incidents, and the MASH's
// triage decisions that R11, R12 and R14 wait for.
func ConsumerSpec(cfg *config.Config) bus.ConsumerSpec {
	incidents, _ := events.Subject(events.IncidentReported, "")
	triage, _ := events.Subject(events.TriageDecided, "")
	return bus.ConsumerSpec{Durable: routing.Consumer, Subjects: []string{incidents, triage}, AckWait: cfg.AckWait}
}

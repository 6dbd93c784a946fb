// Package app wires the router: it consumes incident.reported and
// triage.decided, decides the notices with the routing policy in force,
// and relays notification.requested through its outbox.
package app

import (
	"context"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/router/internal/config"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
	"github.com/lantern-safeguarding/lantern/services/router/internal/store"
)

// Service is the router as the service environment runs it.
var Service = serverenv.Service[config.Config]{Name: "router", Build: build}

func build(ctx context.Context, env *serverenv.Env, cfg *config.Config) error {
	ref, err := env.Reference(cfg.Reference)
	if err != nil {
		return err
	}
	pol, err := policy.NewWatcher(cfg.PolicyFile, env.Log, ref.Current)
	if err != nil {
		return err
	}
	sealer, err := env.Sealer(ctx)
	if err != nil {
		return err
	}
	st := store.New(env.DB, sealer)
	if err := env.Migrate(ctx, st.Migrate); err != nil {
		return err
	}
	h := NewHandler(pol.Current, ref.Current, st, routing.NewHasher(cfg.MatchKey), cloudevent.KeyedIDs(cfg.EventIDs.Key), env.Log)
	spec := ConsumerSpec(cfg)
	spec.Batch = st.Batch(cfg.Consumer.Batch)
	env.Consume(spec, h.Handle)
	env.Relay(st.Outbox())
	env.Watch("routing policy", cfg.PolicyPoll, pol)
	return nil
}

// NewHandler builds the router's event handler on the policy and
// reference data in force; ids keys the notification ids.
func NewHandler(pol func() *policy.Policy, ref func() *refdata.Set, st routing.Store, hasher routing.Hasher, ids cloudevent.IDs, log *zap.Logger) *routing.Handler {
	return &routing.Handler{
		Decider:            &routing.Router{Policy: pol, Reference: ref, IDs: ids},
		Store:              st,
		Hasher:             hasher,
		RepeatWindowMonths: func() int { return pol().RepeatWindowMonths },
		Log:                log,
	}
}

// ConsumerSpec is the router's durable consumer: incidents, and the MASH's
// triage decisions that R11, R12 and R14 wait for.
func ConsumerSpec(cfg *config.Config) bus.ConsumerSpec {
	var h routing.Handler
	return bus.ConsumerSpec{Durable: routing.Consumer, Subjects: h.Mux().Subjects(), AckWait: cfg.Consumer.AckWait}
}

// Package app wires the intake service: PostgreSQL, reference data, the
// outbox relay to JetStream and the HTTP API.
package app

import (
	"context"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/api"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/config"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/store"
)

// Service is the intake service as the service environment runs it.
var Service = serverenv.Service[config.Config]{Name: "intake", Build: build}

func build(ctx context.Context, env *serverenv.Env, cfg *config.Config) error {
	sealer, err := env.Sealer(ctx)
	if err != nil {
		return err
	}
	st := store.New(env.DB, sealer)
	if err := env.Migrate(ctx, st.Migrate); err != nil {
		return err
	}
	ref, err := env.Reference(cfg.Reference)
	if err != nil {
		return err
	}
	a := &api.API{Incidents: st, Tokens: cfg.Police.Tokens(), Clock: clock.System, StoreTimeout: cfg.StoreTimeout, Log: env.Log,
		Reference: func() ppn.Reference { return reference{ref.Current()} },
		Limits: api.Limits{PerCredential: ratelimit.New(cfg.RateLimit, clock.System),
			Unauthenticated: ratelimit.New(cfg.FailureRateLimit, clock.System), Proxies: cfg.Proxies()}}
	if _, err := env.Listen("intake api", cfg.HTTPAddr, a.Handler()); err != nil {
		return err
	}
	env.Relay(st.Outbox())
	return nil
}

// reference answers the notice rules' questions from the current reference
// data.
type reference struct{ set *refdata.Set }

func (r reference) KnownLocalAuthority(code string) bool {
	_, ok := r.set.LocalAuthority(code)
	return ok
}

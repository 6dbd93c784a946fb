// Package app wires the intake service: PostgreSQL, reference data, the
// outbox relay to JetStream and the HTTP API.
package app

import (
	"context"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/httpserver"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/api"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/config"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/store"
)

// Run serves until ctx ends.
func Run(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	ref, err := refdata.NewStore(cfg.ReferenceDir, log)
	if err != nil {
		return err
	}
	nc, js, err := bus.Connect(ctx, cfg.NATSURL, "lantern-intake", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return err
	}
	tokens, _ := policeauth.Parse(cfg.IntakeTokens)
	proxies, _ := ratelimit.ParseProxies(cfg.TrustedProxies)
	a := &api.API{Incidents: st, Tokens: tokens, Clock: clock.System, StoreTimeout: cfg.StoreTimeout, Log: log,
		Reference: func() ppn.Reference { return reference{ref.Current()} },
		Limits: api.Limits{PerCredential: ratelimit.New(cfg.RateLimit, clock.System),
			Unauthenticated: ratelimit.New(cfg.FailureRateLimit, clock.System), Proxies: proxies}}
	srv, err := httpserver.Listen(cfg.HTTPAddr, a.Handler())
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(ctx, log, 10*time.Second) })
	g.Go(func() error { return st.Outbox().NewRelay(pool, bus.NewPublisher(js), log).Run(ctx) })
	g.Go(func() error { ref.Watch(ctx, 5*time.Second); return nil })
	return g.Wait()
}

// reference answers the notice rules' questions from the current reference
// data.
type reference struct{ set *refdata.Set }

func (r reference) KnownLocalAuthority(code string) bool {
	_, ok := r.set.LocalAuthority(code)
	return ok
}

// Package app wires the workspace: it builds the projection from events,
// relays the events the workspace emits, and serves the pages and the API.
package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/projection"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/signin"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/web"
)

// Workspace is the service's parts, built once.
type Workspace struct {
	Handler   http.Handler
	Projector *projection.Projector
	Outbox    *outbox.Store
	Cases     *casework.Service
}

// New migrates the schema and builds the workspace. listenAddr is the
// address the workspace itself listens on, where it reaches its built-in
// identity provider without going through the gateway.
func New(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, sealer *sealed.Sealer, c clock.Clock, log *zap.Logger, listenAddr string) (*Workspace, error) {
	ob := outbox.New(store.Schema).WithSealer(sealer)
	if err := store.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	if err := sealed.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	if err := ob.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	opts := signin.Options{Issuer: cfg.Issuer(), ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
		Audience: cfg.Audience(), RedirectURL: cfg.Public() + signin.CallbackPath, RoleClaim: cfg.RoleClaim,
		OrgClaim: cfg.OrgClaim, OrgNameClaim: cfg.OrgNameClaim, SessionTTL: cfg.SessionTTL,
		SessionIdle: cfg.SessionIdle,
		Secure:      strings.HasPrefix(cfg.Public(), "https://")}
	var idp http.Handler
	if cfg.DevIdP {
		if devIdentityProvider == nil {
			return nil, ErrNoDevIdP
		}
		p, err := devIdentityProvider(cfg, opts.RedirectURL, c)
		if err != nil {
			return nil, err
		}
		idp = p.Handler()
		opts.Backchannel = "http://" + loopback(listenAddr) + devIdPPrefix
		log.Warn("the development identity provider is on; never use it in production", zap.String("issuer", p.Issuer()))
	}
	cases := casework.New(pool, ob, c, sealer).WithPolicy(cfg.PolicyFile, cfg.ReferenceDir)
	server, err := web.New(web.Options{Cases: cases, Auth: signin.New(opts, pool, c), DevIdP: idp, HTTPS: opts.Secure,
		SignInLimit: ratelimit.New(cfg.SignInRateLimit, c), Proxies: cfg.Proxies(), Log: log})
	if err != nil {
		return nil, err
	}
	return &Workspace{Handler: server.Handler(), Projector: projection.New(pool, ob, sealer, []byte(cfg.MatchKey)), Outbox: ob, Cases: cases}, nil
}

// devIdentityProvider builds the development identity provider. It is nil
// in production builds, which do not contain the provider at all: they are
// built without the devidp tag.
var devIdentityProvider func(cfg *config.Config, redirectURI string, c clock.Clock) (devProvider, error)

// devProvider is the development identity provider as the workspace serves
// it.
type devProvider interface {
	Handler() http.Handler
	Issuer() string
}

// devIdPPrefix is the path the development identity provider is served
// under (devidp.Prefix, which a production build does not import).
const devIdPPrefix = "/dev-idp"

// ErrNoDevIdP is returned when LANTERN_DEV_IDP=true asks a production build
// for the development identity provider.
var ErrNoDevIdP = errors.New("LANTERN_DEV_IDP=true, but this workspace was built without the development identity provider (build with -tags devidp, as make run does)")

// loopback turns a listen address such as 0.0.0.0:8086 into one this
// process can dial.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Consume builds the projection from the stream until ctx ends.
func (w *Workspace) Consume(ctx context.Context, js jetstream.JetStream, ackWait time.Duration, log *zap.Logger) error {
	return bus.Consume(ctx, js, consumerSpec(ackWait), w.Projector.Handle, log)
}

func consumerSpec(ackWait time.Duration) bus.ConsumerSpec {
	return bus.ConsumerSpec{Durable: projection.Consumer, Subjects: projection.Subjects(), AckWait: ackWait}
}

// Service is the workspace as the service environment runs it.
var Service = serverenv.Service[config.Config]{Name: "workspace", Build: build}

// build binds the workspace's address before building it, because the
// built-in identity provider is reached at that address.
func build(ctx context.Context, env *serverenv.Env, cfg *config.Config) error {
	env.Log.Info("signing in", zap.String("public_url", cfg.Public()), zap.String("issuer", cfg.Issuer()))
	var root http.Handler = http.NotFoundHandler()
	srv, err := env.Listen("workspace", cfg.Addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { root.ServeHTTP(w, r) }))
	if err != nil {
		return err
	}
	sealer, err := env.Sealer(ctx)
	if err != nil {
		return err
	}
	var ws *Workspace
	err = env.Migrate(ctx, func(ctx context.Context) (err error) {
		ws, err = New(ctx, cfg, env.DB, sealer, clock.System, env.Log, srv.Addr())
		return err
	})
	if err != nil {
		return err
	}
	root = ws.Handler
	spec := consumerSpec(cfg.Consumer.AckWait)
	spec.Batch = ws.Projector.Batch(cfg.Consumer.Batch)
	env.Consume(spec, ws.Projector.Handle)
	env.Relay(ws.Outbox)
	return nil
}

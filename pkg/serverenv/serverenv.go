// Package serverenv is the one place a Lantern service is wired: from
// validated settings it opens and migrates the database, connects to NATS
// and declares the streams, serves the admin listener (/healthz, /readyz),
// and runs the service's named goroutines (consumers, outbox relays, HTTP
// servers, reloaders) until they stop together, with one shutdown grace.
//
// A service asks only for the capabilities it needs (Options) and adds its
// own parts to the Env in its Build function; its main is one call to Main.
// Cross-cutting concerns that every service shares (broker credentials,
// metrics, traces, handler middleware) belong here, so that each is written
// once.
package serverenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/dbroles"
	"github.com/lantern-safeguarding/lantern/pkg/httpserver"
	"github.com/lantern-safeguarding/lantern/pkg/metrics"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/tracing"
)

// Options name the capabilities a service needs.
type Options struct {
	// AdminAddr is where /healthz and /readyz are served; empty means a
	// free loopback port, for tests.
	AdminAddr string
	// Shutdown bounds how long HTTP requests in flight get at shutdown.
	Shutdown config.Shutdown
	// Database, if set, is opened before Build runs.
	Database *config.Database
	// NATS, if set, is connected and the streams declared before Build runs.
	NATS *config.NATS
}

// Env is a service's environment: the capabilities Options asked for, and
// the goroutines the service adds to it.
type Env struct {
	Name string
	Log  *zap.Logger
	// DB is the PostgreSQL pool, nil unless Options.Database was set.
	DB *pgxpool.Pool
	// Conn and JS are the broker, nil unless Options.NATS was set.
	Conn *nats.Conn
	JS   jetstream.JetStream
	// Metrics registers a service's own metrics, served on the admin
	// listener at /metrics with a service label.
	Metrics prometheus.Registerer

	registry   *prometheus.Registry
	stopTraces func(context.Context) error
	httpStats  *metrics.HTTP
	consStats  *metrics.Consumers
	grace      time.Duration
	ready      *readiness
	admin      *httpserver.Server
	stopAdmn   context.CancelFunc
	adminErr   chan error
	tasks      []task
	middleware []bus.Middleware
	afterRun   []func()
	migrated   atomic.Bool
	// ownerURL is the owner role's, that migrations run as; empty
	// migrates as the service's own role.
	ownerURL string
	// provisioned is true when the service connects with its own
	// identity, which binds to the consumers the provisioner declared.
	provisioned bool
}

type task struct {
	name string
	run  func(ctx context.Context) error
}

// Setup serves the admin listener first, so that liveness and the reason
// for not being ready are visible while the rest starts, then opens the
// database and connects to NATS as o asks. Close releases what it opened.
func Setup(ctx context.Context, name string, log *zap.Logger, o Options) (*Env, error) {
	env := &Env{Name: name, Log: log, grace: o.Shutdown.Grace, ready: newReadiness(), registry: metrics.NewRegistry()}
	env.Metrics = metrics.Registerer(env.registry, name)
	env.httpStats = metrics.NewHTTP(env.Metrics)
	stop, err := tracing.Setup(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	env.stopTraces = stop
	if env.grace <= 0 {
		env.grace = 10 * time.Second
	}
	if err := env.serveAdmin(o.AdminAddr); err != nil {
		return nil, err
	}
	env.ready.add("started", func(context.Context) error { return errors.New("the service is starting") })
	if err := env.open(ctx, o); err != nil {
		env.Close()
		return nil, err
	}
	return env, nil
}

func (e *Env) open(ctx context.Context, o Options) error {
	if o.Database != nil {
		if err := e.openDatabase(ctx, *o.Database); err != nil {
			return err
		}
	}
	if o.NATS != nil {
		return e.connectNATS(ctx, *o.NATS)
	}
	return nil
}

func (e *Env) openDatabase(ctx context.Context, c config.Database) error {
	e.ready.add("postgres", func(context.Context) error { return errors.New("not connected yet") })
	e.ready.add("migrations", func(context.Context) error { return errors.New("not applied yet") })
	e.Log.Info("opening the database", zap.String("database", config.Redact(c.URL)))
	pool, err := pgdb.Open(ctx, c.URL)
	if err != nil {
		return err
	}
	e.DB, e.ownerURL = pool, c.OwnerURL
	e.ready.set("postgres", pingDatabase(pool))
	e.ready.set("migrations", func(context.Context) error {
		if !e.migrated.Load() {
			return errors.New("not applied yet")
		}
		return nil
	})
	return nil
}

func (e *Env) connectNATS(ctx context.Context, c config.NATS) error {
	e.ready.add("nats", func(context.Context) error { return errors.New("not connected yet") })
	auth, err := natsauth.ClientOptions(e.Name, c.CredsDir, c.CA)
	if err != nil {
		return err
	}
	if c.CredsDir == "" {
		e.Log.Warn("connecting to NATS without credentials: a server with Lantern's accounts refuses this; set LANTERN_NATS_CREDS_DIR")
	}
	nc, js, err := bus.Connect(ctx, c.URL, "lantern-"+e.Name, e.Log, auth...)
	if err != nil {
		return err
	}
	e.Conn, e.JS = nc, js
	e.consStats = metrics.NewConsumers(e.Metrics, js)
	// With its own identity a service may not declare streams or
	// consumers: the provisioning step has, and the service binds.
	e.provisioned = c.CredsDir != ""
	if !e.provisioned {
		// Declared if missing, never updated: the streams' replicas and
		// limits are the provisioning step's (lantern nats provision).
		if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{CreateOnly: true}); err != nil {
			return fmt.Errorf("declaring streams: %w", err)
		}
	}
	e.ready.set("nats", natsConnected(nc))
	e.Go("nats connection", func(ctx context.Context) error { return watchConnection(ctx, nc, e.Name) })
	return nil
}

// watchConnection fails the service when its connection to NATS closes
// for good, as it does when the server refuses (revokes) its credentials:
// a service cut off for ever must say why and stop, not wait in silence.
func watchConnection(ctx context.Context, nc *nats.Conn, name string) error {
	closed := nc.StatusChanged(nats.CLOSED)
	defer nc.RemoveStatusListener(closed)
	if nc.IsClosed() {
		return bus.ClosedReason(nc, name)
	}
	select {
	case <-ctx.Done():
		return nil
	case <-closed:
		return bus.ClosedReason(nc, name)
	}
}

// Migrate runs the service's migrations, in order, and only then counts
// the database as migrated for /readyz. Build calls it before anything
// that reads or writes the schema.
func (e *Env) Migrate(ctx context.Context, migrations ...func(context.Context) error) error {
	if e.ownerURL != "" {
		owner, err := e.openOwner(ctx)
		if err != nil {
			return err
		}
		defer owner.Pool.Close()
		ctx = pgdb.AsOwner(ctx, owner)
	}
	for _, m := range migrations {
		if err := m(ctx); err != nil {
			return err
		}
	}
	e.migrated.Store(true)
	return nil
}

// openOwner connects as the owner role for the migrations, which then
// renews the grants on the tables they made (dbroles.Roles.AfterMigrate).
// The deployment's roles are named after the owner's.
func (e *Env) openOwner(ctx context.Context) (*pgdb.Owner, error) {
	e.Log.Info("migrating as the owner role", zap.String("database", config.Redact(e.ownerURL)))
	pool, err := pgdb.Open(ctx, e.ownerURL)
	if err != nil {
		return nil, fmt.Errorf("connecting as the owner role (DATABASE_OWNER_URL): %w", err)
	}
	var name string
	if err := pool.QueryRow(ctx, "SELECT current_user").Scan(&name); err != nil {
		pool.Close()
		return nil, fmt.Errorf("naming the owner role: %w", err)
	}
	roles, err := dbroles.FromOwner(name)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("DATABASE_OWNER_URL: %w", err)
	}
	return &pgdb.Owner{Pool: pool, After: roles.AfterMigrate}, nil
}

// Go adds a named goroutine. They all start when Run is called; the first
// to fail stops the others, and its error names it.
func (e *Env) Go(name string, run func(ctx context.Context) error) {
	e.tasks = append(e.tasks, task{name: name, run: run})
}

// AfterRun adds a step run once every goroutine has stopped and before the
// database and broker are closed, such as a final checkpoint.
func (e *Env) AfterRun(f func()) { e.afterRun = append(e.afterRun, f) }

// Ready adds a readiness check of the service's own.
func (e *Env) Ready(name string, check func(ctx context.Context) error) { e.ready.add(name, check) }

// Consume adds a durable consumer as a goroutine, ready once it is bound.
func (e *Env) Consume(spec bus.ConsumerSpec, h bus.Handler) {
	var bound atomic.Bool
	spec.Bound = bound.Store
	spec.Provisioned = spec.Provisioned || e.provisioned
	check := "consumer " + spec.Durable
	e.ready.add(check, func(context.Context) error {
		if !bound.Load() {
			return errors.New("not bound")
		}
		return nil
	})
	observe := e.consStats.Middleware(spec.Durable)
	e.Go(check, func(ctx context.Context) error {
		// Provenance comes first for every consumer, after the metrics
		// that count its refusals: nothing else sees an event from a
		// source not entitled to its subject.
		mws := append([]bus.Middleware{observe, tracing.Consumer(spec.Durable), bus.Provenance(e.Log)}, e.middleware...)
		return bus.Consume(ctx, e.JS, spec, bus.Chain(h, mws...), e.Log)
	})
}

// Use adds middleware that every consumer of the service runs its events
// through, first added outermost; tracing, metrics and authorising an
// event's source belong here.
func (e *Env) Use(mw ...bus.Middleware) { e.middleware = append(e.middleware, mw...) }

// Relay adds the outbox relay of ob as a goroutine, ready while it makes
// progress. Its depth and what it publishes are measured; observers are
// told of every event published as well, for a service's own metrics.
func (e *Env) Relay(ob *outbox.Store, observers ...func(subject string, ev cloudevent.Event, duplicate bool)) {
	r := ob.NewRelay(e.DB, bus.NewPublisher(e.JS), e.Log)
	stats := metrics.NewOutbox(e.Metrics, e.DB, ob.Schema())
	r.OnPublished = func(subject string, ev cloudevent.Event, duplicate bool) {
		stats.Published(ob.Schema(), ev, duplicate)
		tracing.Published(subject, ev, duplicate)
		for _, o := range observers {
			o(subject, ev, duplicate)
		}
	}
	e.ready.add("outbox relay", func(context.Context) error { return r.Check() })
	e.Go("outbox relay", r.Run)
}

// Listen binds addr now, so that the address is known (Addr) before the
// handler is built, and serves h from Run on with the shutdown grace.
func (e *Env) Listen(name, addr string, h http.Handler) (*httpserver.Server, error) {
	// The span is outermost: the metrics inside it see the request the
	// mux matched a pattern on, and time the span's work too.
	srv, err := httpserver.Listen(addr, tracing.HTTP(name, e.httpStats.Wrap(name, h)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	e.Go(name, func(ctx context.Context) error {
		return srv.Serve(ctx, e.Log.With(zap.String("listener", name)), e.grace)
	})
	return srv, nil
}

// AdminAddr is the bound address of the admin listener.
func (e *Env) AdminAddr() string { return e.admin.Addr() }

// Run runs every goroutine until ctx ends or one fails, then the AfterRun
// steps.
func (e *Env) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range e.tasks {
		g.Go(func() error {
			err := t.run(gctx)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			if ctx.Err() == nil {
				e.Log.Warn("stopped before shutdown", zap.String("task", t.name))
			}
			return nil
		})
	}
	// Run lasts until ctx ends even if every goroutine returned early.
	g.Go(func() error { <-gctx.Done(); return nil })
	e.ready.set("started", func(context.Context) error { return nil })
	e.Log.Info("running", zap.String("admin_addr", e.AdminAddr()))
	err := g.Wait()
	for _, f := range e.afterRun {
		f()
	}
	return err
}

// Close stops the admin listener and closes the broker and the database.
func (e *Env) Close() {
	if e.Conn != nil {
		e.Conn.Close()
	}
	if e.DB != nil {
		e.DB.Close()
	}
	e.stopAdmn()
	if err := <-e.adminErr; err != nil {
		e.Log.Warn("admin listener", zap.Error(err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.stopTraces(ctx); err != nil {
		e.Log.Warn("flushing traces", zap.Error(err))
	}
}

// Reloader is a hot-reloaded file (reload.Value) that checks for changes
// every interval until ctx ends.
type Reloader interface {
	Watch(ctx context.Context, interval time.Duration)
}

// Watch adds a goroutine that keeps r current, checking every interval.
func (e *Env) Watch(name string, interval time.Duration, r Reloader) {
	e.Go(name, func(ctx context.Context) error { r.Watch(ctx, interval); return nil })
}

// Reference loads the reference data folder and keeps it current, checked
// every c.Poll; it fails if the folder has any problem.
func (e *Env) Reference(c config.Reference) (*refdata.Store, error) {
	ref, err := refdata.NewStore(c.Dir, e.Log)
	if err != nil {
		return nil, err
	}
	e.Watch("reference data", c.Poll, ref)
	return ref, nil
}

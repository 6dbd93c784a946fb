package serverenv

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/httpjson"
	"github.com/lantern-safeguarding/lantern/pkg/httpserver"
	"github.com/lantern-safeguarding/lantern/pkg/metrics"
)

// checkTimeout bounds each readiness check, so that an unreachable server
// makes /readyz answer "not ready" rather than hang.
const checkTimeout = 2 * time.Second

// readiness is the service's list of named checks, in the order added.
type readiness struct {
	mu     sync.Mutex
	names  []string
	checks map[string]func(context.Context) error
}

func newReadiness() *readiness {
	return &readiness{checks: map[string]func(context.Context) error{}}
}

func (r *readiness) add(name string, check func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.checks[name]; !ok {
		r.names = append(r.names, name)
	}
	r.checks[name] = check
}

func (r *readiness) set(name string, check func(context.Context) error) { r.add(name, check) }

// Check is one line of a /readyz answer.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Reason says why the check failed; it never carries personal data,
	// only what a server or this service reported.
	Reason string `json:"reason,omitempty"`
}

// Report is the body of /readyz.
type Report struct {
	Ready  bool    `json:"ready"`
	Checks []Check `json:"checks"`
}

// run runs every check concurrently, each within checkTimeout.
func (r *readiness) run(ctx context.Context) Report {
	r.mu.Lock()
	names := append([]string(nil), r.names...)
	checks := make([]func(context.Context) error, len(names))
	for i, n := range names {
		checks[i] = r.checks[n]
	}
	r.mu.Unlock()
	out := Report{Ready: true, Checks: make([]Check, len(names))}
	var wg sync.WaitGroup
	for i, check := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			out.Checks[i] = Check{Name: names[i], OK: true}
			if err := check(cctx); err != nil {
				out.Checks[i] = Check{Name: names[i], Reason: err.Error()}
			}
		})
	}
	wg.Wait()
	for _, c := range out.Checks {
		out.Ready = out.Ready && c.OK
	}
	return out
}

// serveAdmin binds the admin listener and serves it until Close.
//
// /healthz answers 200 while the process serves HTTP at all: it touches
// neither the database nor the broker, so that an orchestrator does not
// restart a service that is only waiting for one of them. /readyz runs
// every check and answers 503 with the reasons until all pass. /metrics
// serves the service's Prometheus registry.
func (e *Env) serveAdmin(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_ = httpjson.Write(w, http.StatusOK, map[string]string{"status": "alive", "service": e.Name})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rep := e.ready.run(r.Context())
		status := http.StatusOK
		if !rep.Ready {
			status = http.StatusServiceUnavailable
		}
		_ = httpjson.Write(w, status, rep)
	})
	mux.Handle("GET /metrics", metrics.Handler(e.registry, e.Log))
	srv, err := httpserver.Listen(addr, mux)
	if err != nil {
		return fmt.Errorf("admin listener: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.admin, e.stopAdmn, e.adminErr = srv, cancel, make(chan error, 1)
	go func() { e.adminErr <- srv.Serve(ctx, e.Log.With(zap.String("listener", "admin")), time.Second) }()
	return nil
}

func pingDatabase(pool *pgxpool.Pool) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("unreachable: %w", err)
		}
		return nil
	}
}

func natsConnected(nc *nats.Conn) func(context.Context) error {
	return func(context.Context) error {
		if st := nc.Status(); st != nats.CONNECTED {
			return fmt.Errorf("not connected (%s)", st)
		}
		return nil
	}
}

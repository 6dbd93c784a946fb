package serverenv_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type settings struct{ config.Common }

func (s *settings) Validate() error { return s.Common.Validate() }

func readyz(t *testing.T, addr string) (int, serverenv.Report) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep serverenv.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, rep
}

func failing(rep serverenv.Report) map[string]string {
	out := map[string]string{}
	for _, c := range rep.Checks {
		if !c.OK {
			out[c.Name] = c.Reason
		}
	}
	return out
}

// TestNotReadyUntilMigratedAndRunning holds a service in Build, where it
// has its database and broker but has not migrated, and requires /readyz
// to say so while /healthz answers; once Build migrates and Run starts,
// every check passes.
func TestNotReadyUntilMigratedAndRunning(t *testing.T) {
	ns := natstest.RunServer(t)
	cfg := &settings{config.CommonFor(pgtest.NewDatabase(t, "serverenv-empty", nil), ns.URL())}
	inBuild, migrate := make(chan string), make(chan struct{})
	svc := serverenv.Service[settings]{
		Name: "probe",
		Options: func(c *settings) serverenv.Options {
			return serverenv.Options{Shutdown: c.Shutdown, Database: &c.Database, NATS: &c.NATS}
		},
		Build: func(ctx context.Context, env *serverenv.Env, _ *settings) error {
			inBuild <- env.AdminAddr()
			<-migrate
			return env.Migrate(ctx, func(context.Context) error { return nil })
		},
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serverenv.Run(ctx, zaptest.NewLogger(t), svc, cfg) }()
	addr := <-inBuild

	status, rep := readyz(t, addr)
	got := failing(rep)
	if status != http.StatusServiceUnavailable || got["migrations"] == "" || got["started"] == "" {
		t.Errorf("before migrating: /readyz %d, failing %v; want 503 naming migrations and started", status, got)
	}
	if _, ok := got["postgres"]; ok {
		t.Errorf("postgres reported failing while reachable: %v", got)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz while starting: %v %v", resp, err)
	}
	close(migrate)
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if status, rep := readyz(t, addr); status != http.StatusOK {
			return fmt.Errorf("/readyz %d, failing %v", status, failing(rep))
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
}

// TestAFailingGoroutineStopsTheOthersAndIsNamed checks that Run returns
// the first failure, named, and that the other goroutines were stopped.
func TestAFailingGoroutineStopsTheOthersAndIsNamed(t *testing.T) {
	svc := serverenv.Service[settings]{
		Name:    "probe",
		Options: func(*settings) serverenv.Options { return serverenv.Options{} },
		Build: func(_ context.Context, env *serverenv.Env, _ *settings) error {
			env.Go("patient", func(ctx context.Context) error { <-ctx.Done(); return nil })
			env.Go("broken", func(context.Context) error { return errors.New("boom") })
			return nil
		},
	}
	err := serverenv.Run(t.Context(), zaptest.NewLogger(t), svc, &settings{})
	if err == nil || err.Error() != "broken: boom" {
		t.Errorf("Run = %v, want broken: boom", err)
	}
}

package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"

	"github.com/lantern-safeguarding/lantern/pkg/pglocal"
)

const (
	// containerImage is the server started when a container engine is
	// available.
	containerImage = "postgres:16-alpine"
	// engineProbeTimeout keeps the check for a container engine short, so
	// that a machine without one falls through to pglocal at once.
	engineProbeTimeout = 3 * time.Second
)

// startServer picks the first server source that works: DATABASE_URL, a
// container, then the local binaries.
func startServer(ctx context.Context) (*server, error) {
	if dbURL := os.Getenv("DATABASE_URL"); dbURL != "" {
		return useExisting(ctx, dbURL)
	}
	if srv, err := startContainer(ctx); err == nil {
		return srv, nil
	} else if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "pgtest: no container PostgreSQL (%v); starting one from the local binaries\n", err)
	}
	return startLocal(ctx)
}

func newServer(adminURL string, stop func(context.Context) error) *server {
	return &server{adminURL: adminURL, stop: stop, templates: map[string]*templateDB{}}
}

// useExisting checks that DATABASE_URL names a reachable server. It must be
// a URL, not a keyword/value string, because each test's database URL is
// derived from it.
func useExisting(ctx context.Context, dbURL string) (*server, error) {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("DATABASE_URL must be a postgres:// URL")
	}
	if err := ping(ctx, dbURL); err != nil {
		return nil, fmt.Errorf("connecting to DATABASE_URL: %w", err)
	}
	return newServer(dbURL, nil), nil
}

// startContainer starts PostgreSQL in a container, but only after a quick
// check that a container engine answers at all.
func startContainer(ctx context.Context) (*server, error) {
	if err := probeEngine(ctx); err != nil {
		return nil, err
	}
	ctr, err := tcpostgres.Run(ctx, containerImage,
		tcpostgres.WithDatabase("postgres"),
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres"),
		tcpostgres.BasicWaitStrategies(),
	)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("starting a PostgreSQL container: %w", err), terminate(ctr))
	}
	adminURL, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("reading the container's address: %w", err), terminate(ctr))
	}
	return newServer(adminURL, func(context.Context) error { return terminate(ctr) }), nil
}

func terminate(ctr *tcpostgres.PostgresContainer) error {
	if ctr == nil {
		return nil
	}
	return testcontainers.TerminateContainer(ctr)
}

func probeEngine(ctx context.Context) (err error) {
	ctx, cancel := context.WithTimeout(ctx, engineProbeTimeout)
	defer cancel()
	// The provider panics on some broken configurations rather than
	// returning an error; either way there is no engine to use.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("probing for a container engine: %v", r)
		}
	}()
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return fmt.Errorf("probing for a container engine: %w", err)
	}
	defer provider.Close()
	if err := provider.Health(ctx); err != nil {
		return fmt.Errorf("probing for a container engine: %w", err)
	}
	return nil
}

// startLocal starts a throwaway server from the local PostgreSQL binaries;
// Main stops it and removes its data.
func startLocal(ctx context.Context) (*server, error) {
	srv, err := pglocal.Start(ctx, pglocal.Options{})
	if err != nil {
		return nil, err
	}
	return newServer(srv.URL(), srv.Stop), nil
}

func ping(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

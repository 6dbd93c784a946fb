// Package devstack runs the whole Lantern pipeline on one machine for
// `make run`: an embedded NATS JetStream server, PostgreSQL (DATABASE_URL or
// a local server started from the PostgreSQL binaries), every service as a
// supervised child process, and the gateway at LANTERN_HTTP_ADDR.
package devstack

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/pkg/pglocal"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
)

// Options configure a run; empty fields take the contract's defaults.
type Options struct {
	// StateDir keeps the local database, the NATS store and credentials.
	StateDir string
	// BinDir holds the service binaries.
	BinDir       string
	HTTPAddr     string
	DatabaseURL  string
	NATSURL      string
	ReferenceDir string
	PolicyFile   string
	Out          io.Writer
}

// Run starts everything, prints where to go, and stops everything when ctx
// ends.
func Run(ctx context.Context, o Options) error {
	// The state folder must be traversable by the unprivileged account
	// PostgreSQL runs as when Lantern is started by root; the secrets inside
	// it are protected by their own file modes.
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", o.StateDir, err)
	}
	if err := os.Chmod(o.StateDir, 0o755); err != nil {
		return fmt.Errorf("opening up %s: %w", o.StateDir, err)
	}
	stack := &stack{o: o}
	defer stack.stop()
	if err := stack.startInfrastructure(ctx); err != nil {
		return err
	}
	if err := localenv.Write(o.StateDir, stack.connection()); err != nil {
		return fmt.Errorf("writing the connection settings: %w", err)
	}
	defer func() { _ = localenv.Remove(o.StateDir) }()
	users, err := generateUsers(ctx, o)
	if err != nil {
		return err
	}
	creds, err := loadOrCreateCredentials(filepath.Join(o.StateDir, "dev-credentials.json"), "http://"+o.HTTPAddr, users.Users)
	if err != nil {
		return err
	}
	if err := stack.startServices(ctx, creds); err != nil {
		return err
	}
	if err := waitHTTP(ctx, "http://"+o.HTTPAddr+"/healthz", 60*time.Second); err != nil {
		return fmt.Errorf("the gateway did not come up: %w", err)
	}
	printBanner(o.Out, stack.o, creds, users.table)
	<-ctx.Done()
	fmt.Fprintln(o.Out, "\nStopping Lantern…")
	return nil
}

type stack struct {
	o        Options
	pg       *pglocal.Server
	natsStop func()
	procs    []*child
}

func (s *stack) startInfrastructure(ctx context.Context) error {
	if s.o.DatabaseURL == "" {
		fmt.Fprintln(s.o.Out, "Starting PostgreSQL from the local binaries (data in "+filepath.Join(s.o.StateDir, "pgdata")+")…")
		pg, err := pglocal.Start(ctx, pglocal.Options{DataDir: filepath.Join(s.o.StateDir, "pgdata")})
		if err != nil {
			return fmt.Errorf("starting PostgreSQL (set DATABASE_URL to use your own): %w", err)
		}
		s.pg = pg
		s.o.DatabaseURL = pg.URL()
	}
	if s.o.NATSURL == "" {
		fmt.Fprintln(s.o.Out, "Starting embedded NATS JetStream (store in "+filepath.Join(s.o.StateDir, "nats")+")…")
		srv, err := natsembed.Start(natsembed.Options{Host: "127.0.0.1", StoreDir: filepath.Join(s.o.StateDir, "nats")})
		if err != nil {
			return fmt.Errorf("starting embedded NATS: %w", err)
		}
		s.natsStop = func() { srv.Shutdown(); srv.WaitForShutdown() }
		s.o.NATSURL = srv.ClientURL()
	}
	return nil
}

// connection is where the lantern command finds this pipeline's servers
// and ledger files while it runs.
func (s *stack) connection() localenv.Settings {
	return localenv.Settings{
		DatabaseURL:   s.o.DatabaseURL,
		NATSURL:       s.o.NATSURL,
		BaseURL:       "http://" + s.o.HTTPAddr,
		CheckpointDir: s.checkpointDir(),
		LedgerKeyFile: s.ledgerKeyFile(),
	}
}

func (s *stack) checkpointDir() string { return filepath.Join(s.o.StateDir, "checkpoints") }
func (s *stack) ledgerKeyFile() string { return filepath.Join(s.o.StateDir, "ledger.key") }

func (s *stack) startServices(ctx context.Context, creds Credentials) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	intakeAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	ledgerAddr := fmt.Sprintf("127.0.0.1:%d", ports[1])
	workspaceAddr := fmt.Sprintf("127.0.0.1:%d", ports[2])
	common := []string{
		"DATABASE_URL=" + s.o.DatabaseURL, "NATS_URL=" + s.o.NATSURL, "LOG_MODE=development",
		"LANTERN_REFERENCE_DIR=" + s.o.ReferenceDir, "LANTERN_POLICY_FILE=" + s.o.PolicyFile,
		"LANTERN_INTAKE_TOKENS=" + policeauth.AnyForce + "=" + policeauth.Hash(creds.PoliceIntakeToken),
		"LANTERN_MATCH_KEY=" + creds.MatchKey,
	}
	specs := []childSpec{
		{name: "intake", env: []string{"INTAKE_HTTP_ADDR=" + intakeAddr}},
		{name: "router"},
		{name: "delivery"},
		{name: "ledger", env: []string{"LEDGER_HTTP_ADDR=" + ledgerAddr,
			// Auditors' tokens come from the workspace's development
			// provider, reached through the gateway as a browser would.
			"LANTERN_OIDC_ISSUER=http://" + s.o.HTTPAddr + "/dev-idp",
			"LANTERN_CHECKPOINT_DIR=" + s.checkpointDir(),
			"LANTERN_LEDGER_KEY_FILE=" + s.ledgerKeyFile()}},
		{name: "escalation"},
		{name: "workspace", env: []string{"WORKSPACE_HTTP_ADDR=" + workspaceAddr, "LANTERN_HTTP_ADDR=" + s.o.HTTPAddr,
			"LANTERN_DEV_IDP=true", "LANTERN_DEV_USERS_FILE=" + usersFile(s.o)}},
		{name: "gateway", env: []string{"LANTERN_HTTP_ADDR=" + s.o.HTTPAddr, "GATEWAY_ROUTES=" +
			"/v1/incidents/{id}/timeline=http://" + ledgerAddr + ";/v1/audit/=http://" + ledgerAddr +
			";/v1/incidents=http://" + intakeAddr + ";/v1/incidents/=http://" + intakeAddr +
			";/=http://" + workspaceAddr}},
	}
	for _, spec := range specs {
		spec.path = filepath.Join(s.o.BinDir, spec.name)
		spec.env = append(append(os.Environ(), common...), spec.env...)
		c, err := startChild(ctx, spec, s.o.Out)
		if err != nil {
			return err
		}
		s.procs = append(s.procs, c)
	}
	return nil
}

func (s *stack) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop(10 * time.Second)
	}
	if s.natsStop != nil {
		s.natsStop()
	}
	if s.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.pg.Stop(ctx)
	}
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

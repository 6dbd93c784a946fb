// Package devstack runs the whole Lantern pipeline on one machine for
// `make run`: an embedded NATS JetStream server, PostgreSQL (DATABASE_URL or
// a local server started from the PostgreSQL binaries), every service as a
// supervised child process, and the gateway at LANTERN_HTTP_ADDR.
package devstack

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/dbroles"
	"github.com/lantern-safeguarding/lantern/pkg/devtls"
	"github.com/lantern-safeguarding/lantern/pkg/freeport"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
	"github.com/lantern-safeguarding/lantern/pkg/pglocal"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/natscmd"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
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
	observer := &NATSIdentity{URL: stack.o.NATSURL, CredsFile: natsauth.CredsFile(stack.natsCreds, natsauth.Observer),
		InboxPrefix: natsauth.InboxPrefix(natsauth.Observer), CAFile: stack.natsCA}
	creds, err := loadOrCreateCredentials(filepath.Join(o.StateDir, "dev-credentials.json"), "http://"+o.HTTPAddr, users.Users, observer)
	if err != nil {
		return err
	}
	if err := stack.startServices(ctx, creds); err != nil {
		return err
	}
	if err := stack.waitReady(ctx); err != nil {
		return err
	}
	printBanner(o.Out, stack.o, stack.layout, creds, users.table)
	<-ctx.Done()
	fmt.Fprintln(o.Out, "\nStopping Lantern…")
	return nil
}

// readyTimeout bounds the wait for each service to be ready; a first start
// migrates an empty database.
const readyTimeout = 2 * time.Minute

type stack struct {
	o      Options
	layout topology.Layout
	pg     *pglocal.Server
	// dbRoles are the services' own database roles on the local server;
	// with DATABASE_URL set, every service connects with that URL.
	dbRoles  dbroles.URLs
	natsStop func()
	// natsCreds holds every NATS identity's credentials; natsCA is the
	// authority of a TLS broker's certificate.
	natsCreds, natsCA string
	procs             []*child
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
		fmt.Fprintln(s.o.Out, "Giving each service its own database role, migrations the owner role…")
		if s.dbRoles, err = dbroles.Provision(ctx, pg.URL(), dbroles.Roles{Prefix: dbroles.DefaultPrefix}); err != nil {
			return err
		}
	}
	if err := s.startBroker(); err != nil {
		return err
	}
	fmt.Fprintln(s.o.Out, "Declaring the streams and consumers as the provisioner…")
	if err := natscmd.Provision(ctx, s.o.NATSURL, s.natsCreds, s.natsCA, ackWait(), 1); err != nil {
		return fmt.Errorf("provisioning NATS (with NATS_URL set, install `lantern nats config` on the server first): %w", err)
	}
	return nil
}

// startBroker issues every NATS identity's credentials and, unless NATS_URL
// names a server of the operator's, starts the embedded one with Lantern's
// accounts: anonymous clients are refused. The keys stay in the credentials
// folder between runs, because JetStream keeps the streams under the
// account's key.
func (s *stack) startBroker() error {
	s.natsCreds = cmp.Or(os.Getenv("LANTERN_NATS_CREDS_DIR"), filepath.Join(s.o.StateDir, "nats-auth"))
	auth, err := natsauth.Prepare(s.natsCreds)
	if err != nil {
		return fmt.Errorf("issuing the NATS identities: %w", err)
	}
	if s.o.NATSURL != "" {
		s.natsCA = os.Getenv("LANTERN_NATS_CA")
		return nil
	}
	var tlsFiles *devtls.Files
	if on, _ := strconv.ParseBool(os.Getenv("LANTERN_NATS_TLS")); on {
		if tlsFiles, err = natscmd.TLSFiles(filepath.Join(s.o.StateDir, "nats-tls")); err != nil {
			return err
		}
		s.natsCA = tlsFiles.CA
	}
	conf, err := natscmd.WriteServerConfig(auth, tlsFiles)
	if err != nil {
		return err
	}
	// The store syncs on a short timer unless LANTERN_NATS_SYNC_INTERVAL
	// says always: PostgreSQL is the point of durability, and the outbox
	// relays publish again what a crash may take from the broker.
	syncInterval, err := natsembed.SyncFromEnv()
	if err != nil {
		return err
	}
	fmt.Fprintln(s.o.Out, "Starting embedded NATS JetStream (store in "+filepath.Join(s.o.StateDir, "nats")+", sync "+
		natsembed.FormatSync(syncInterval)+", anonymous clients refused)…")
	// Supervised, so that a store that failed a write or filled up is
	// brought back once the disk takes writes again.
	// The store is encrypted with JetStream's own cipher; its key stays
	// beside the store's directory, never inside it.
	keyFile := filepath.Join(s.o.StateDir, "nats-store.key")
	if err := natsembed.EnsureKeyFile(keyFile); err != nil {
		return err
	}
	srv, err := natsembed.StartSupervised(natsembed.Options{Host: "127.0.0.1", StoreDir: filepath.Join(s.o.StateDir, "nats"),
		ConfigFile: conf, KeyFile: keyFile, SyncInterval: syncInterval})
	if err != nil {
		return fmt.Errorf("starting embedded NATS: %w", err)
	}
	s.natsStop = srv.Shutdown
	s.o.NATSURL = srv.ClientURL()
	if tlsFiles != nil {
		s.o.NATSURL = "tls://" + strings.TrimPrefix(s.o.NATSURL, "nats://")
	}
	return nil
}

// ackWait is the consumers' ack wait, LANTERN_ACK_WAIT as the services
// read it.
func ackWait() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("LANTERN_ACK_WAIT")); err == nil && d >= time.Second {
		return d
	}
	return 30 * time.Second
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
		NATSCredsDir:  s.natsCreds,
		NATSCA:        s.natsCA,
	}
}

func (s *stack) checkpointDir() string { return filepath.Join(s.o.StateDir, "checkpoints") }
func (s *stack) ledgerKeyFile() string { return filepath.Join(s.o.StateDir, "ledger.key") }

func (s *stack) startServices(ctx context.Context, creds Credentials) error {
	ports, err := freeport.Pick(topology.PortsNeeded())
	if err != nil {
		return err
	}
	s.layout = topology.NewLayout(s.o.HTTPAddr, ports)
	traces, err := s.startJaeger(ctx)
	if err != nil {
		return err
	}
	mail, err := s.startMailpit(ctx)
	if err != nil {
		return err
	}
	traces = append(traces, mail...)
	common := append([]string{
		"DATABASE_URL=" + s.o.DatabaseURL, "NATS_URL=" + s.o.NATSURL, "LOG_MODE=development",
		"LANTERN_NATS_CREDS_DIR=" + s.natsCreds, "LANTERN_NATS_CA=" + s.natsCA,
		"LANTERN_REFERENCE_DIR=" + s.o.ReferenceDir, "LANTERN_POLICY_FILE=" + s.o.PolicyFile,
		"LANTERN_INTAKE_TOKENS=" + policeauth.AnyForce + "=" + policeauth.Hash(creds.PoliceIntakeToken),
		"LANTERN_MATCH_KEY=" + creds.MatchKey,
		"LANTERN_CHECKPOINT_DIR=" + s.checkpointDir(),
		"LANTERN_LEDGER_KEY_FILE=" + s.ledgerKeyFile(),
		// The key-encryption key of every incident's data key; a
		// production deployment names a KMS key instead.
		"LANTERN_KEK=" + cmp.Or(os.Getenv(sealed.EnvKEK), "file:"+filepath.Join(s.o.StateDir, "kek")),
		"LANTERN_DEV_IDP=true", "LANTERN_DEV_USERS_FILE=" + usersFile(s.o),
	}, append(s.layout.Env(), traces...)...)
	for _, name := range topology.Names() {
		env := append(append(append(os.Environ(), common...), s.layout.ServiceEnv(name)...), s.databaseEnv(name)...)
		if key := creds.EventIDKeys[name]; key != "" {
			env = append(env, "LANTERN_EVENT_ID_KEY="+key)
		}
		spec := childSpec{name: name, path: filepath.Join(s.o.BinDir, name), env: env}
		c, err := startChild(ctx, spec, s.o.Out)
		if err != nil {
			return err
		}
		s.procs = append(s.procs, c)
	}
	return nil
}

// databaseEnv is the service's own database role, when make run set the
// roles up; a service without one (the gateway) is given no database.
func (s *stack) databaseEnv(name string) []string {
	if s.dbRoles.Services == nil {
		return nil
	}
	if env := s.dbRoles.Env(name); env != nil {
		return env
	}
	return []string{"DATABASE_URL=", "DATABASE_OWNER_URL="}
}

// waitReady waits until every service's /readyz passes, so that the banner
// never promises a pipeline that would still refuse a notice.
func (s *stack) waitReady(ctx context.Context) error {
	for _, name := range topology.Names() {
		if err := waitHTTP(ctx, s.layout.ReadyURL(name), readyTimeout); err != nil {
			return fmt.Errorf("%s did not become ready: %w", name, err)
		}
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

// Package cluster runs a whole Lantern as separate processes, for the
// end-to-end, fault and benchmark runs: every service is built once, started
// with its own environment, and can be stopped, killed with SIGKILL, paused
// with SIGSTOP and restarted, against a real PostgreSQL and NATS JetStream.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/dbroles"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/pglocal"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// clusterAckWait is the consumers' ack wait: short, so that a killed
// service's messages come back quickly.
const clusterAckWait = 2 * time.Second

// PoliceToken is the bearer token a cluster accepts for every force.
const PoliceToken = "cluster-police-token"

// Pipeline lists the services of the police-to-inbox path, in start order.
var Pipeline = []string{"intake", "router", "delivery", "ledger", "gateway"}

// Options shape a cluster.
type Options struct {
	// Services to start; nil means Pipeline.
	Services []string
	// OwnPostgres starts a PostgreSQL server for this cluster alone, so
	// that it can be killed or paused; otherwise a database on the shared
	// test server is used.
	OwnPostgres bool
	// Env is added to every service's environment.
	Env []string
	// Proxied puts a Toxiproxy proxy on every service's link to the broker
	// and to PostgreSQL, so that faults can degrade one link or all.
	Proxied bool
	// TLS runs the broker with TLS only (tls:// and LANTERN_NATS_CA), its
	// certificate from a development authority.
	TLS bool
	// NATSNodes, when more than one, runs that many brokers as one
	// JetStream cluster, each a process of its own with Lantern's
	// accounts, and provisions the streams at that many replicas. It
	// cannot be combined with Proxied or TLS.
	NATSNodes int
	// BuildTags builds the services with these Go build tags (comma
	// separated), into a folder of their own: for deliberately broken
	// builds that prove a check can fail.
	BuildTags string
}

// Cluster is a running Lantern.
type Cluster struct {
	t           testing.TB
	BaseURL     string
	DatabaseURL string
	NATSURL     string
	// CredsDir holds every NATS identity's credentials; the broker
	// refuses anonymous clients (ConnectNATS).
	CredsDir string
	// NATSAccount is the public key of Lantern's account, under which
	// JetStream keeps the streams in its store.
	NATSAccount string
	// NATSCA is the authority of the broker's certificate with TLS on.
	NATSCA string
	// NATSSync is the broker's sync interval; zero syncs every write.
	NATSSync time.Duration
	// natsConfig is the broker's configuration file.
	natsConfig string
	Pool       *pgxpool.Pool
	PG         *pglocal.Server
	// DBRoles are where each service's own database role connects, and
	// the owner its migrations run as; DatabaseURL is the superuser's,
	// for the test's own checks and tools.
	DBRoles dbroles.URLs
	// eventIDKeys are each service's LANTERN_EVENT_ID_KEY, the same
	// across its restarts.
	eventIDKeys map[string]string
	natsPort    int
	// usersFile holds the development identity provider's sample users,
	// written before the workspace starts.
	usersFile string
	// Layout is where every service listens, admin listeners included.
	Layout    topology.Layout
	env       []string
	mu        sync.Mutex
	procs     map[string]*proc
	binDir    string
	natsStore string
	// natsKey is the store's encryption key file. It stays where it was
	// made when a fault moves the store, as an operator's key outlives a
	// disk move.
	natsKey string
	proxies *Proxies
	// natsNodes are the members of a JetStream cluster (Options.NATSNodes),
	// and routeLinks the proxies their routes pass through.
	natsNodes  []*natsNode
	routeLinks []routeLink
	// replicaEnv is each replica's own environment (its listeners), and
	// replicaHTTP its public listener, by name#n.
	replicaEnv  map[string][]string
	replicaHTTP map[string]string
}

// Root is the project's root folder.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// New starts a cluster and stops it when the test ends.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	c := &Cluster{t: t, procs: map[string]*proc{}, replicaEnv: map[string][]string{}, replicaHTTP: map[string]string{}, binDir: mustBuild(t, o.BuildTags)}
	roles := c.roles(o.OwnPostgres)
	c.startDatabase(o.OwnPostgres)
	c.provisionRoles(roles)
	if o.NATSNodes > 1 {
		if o.Proxied || o.TLS {
			t.Fatal("a cluster of brokers runs without service proxies and without TLS")
		}
		c.startNATSCluster(o.NATSNodes)
	} else {
		c.startNATS(o.TLS)
	}
	c.configure(o.Env)
	if o.Proxied {
		c.startProxies()
	}
	t.Cleanup(c.stopAll)
	services := orDefault(o.Services, Pipeline)
	if slices.Contains(services, "workspace") {
		c.writeSampleUsers()
	}
	for _, name := range services {
		c.Start(name)
	}
	pool, err := pgdb.Open(context.Background(), c.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	c.Pool = pool
	c.WaitHealthy()
	return c
}

func orDefault(list, def []string) []string {
	if list == nil {
		return def
	}
	return list
}

func (c *Cluster) startDatabase(own bool) {
	if !own {
		c.DatabaseURL = pgtest.NewDatabase(c.t, "cluster-empty", nil)
		return
	}
	pg, err := pglocal.Start(context.Background(), pglocal.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	c.PG = pg
	c.DatabaseURL = pg.URL()
}

// roles names the cluster's database roles. Clusters on the shared test
// server each have roles of their own, dropped once the database is: this
// cleanup, registered before the database's, runs after it.
func (c *Cluster) roles(ownPostgres bool) dbroles.Roles {
	if ownPostgres {
		return dbroles.Roles{Prefix: dbroles.DefaultPrefix}
	}
	roles := dbroles.Roles{Prefix: "c" + strings.ToLower(rand.Text()[:12])}
	admin := pgtest.URL(c.t)
	c.t.Cleanup(func() { c.dropRoles(admin, roles) })
	return roles
}

// provisionRoles gives every service its own database role, as make run
// does, so that the whole pipeline runs least-privilege.
func (c *Cluster) provisionRoles(roles dbroles.Roles) {
	urls, err := dbroles.Provision(context.Background(), c.DatabaseURL, roles)
	if err != nil {
		c.t.Fatal(err)
	}
	c.DBRoles = urls
}

func (c *Cluster) dropRoles(admin string, roles dbroles.Roles) {
	if err := dbroles.Unprovision(context.Background(), admin, roles); err != nil {
		c.t.Errorf("dropping the cluster's database roles: %v", err)
	}
}

func (c *Cluster) configure(extra []string) {
	ports := FreePorts(c.t, 1+topology.PortsNeeded())
	c.BaseURL = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	c.Layout = topology.NewLayout(strings.TrimPrefix(c.BaseURL, "http://"), ports[1:])
	state := c.t.TempDir()
	c.usersFile = filepath.Join(state, "dev-users.json")
	c.eventIDKeys = map[string]string{}
	for _, name := range topology.EventIDKeyed() {
		c.eventIDKeys[name] = rand.Text()
	}
	c.env = append(append([]string{
		"DATABASE_URL=" + c.DatabaseURL, "NATS_URL=" + c.NATSURL, "LANTERN_NATS_CREDS_DIR=" + c.CredsDir, "LANTERN_NATS_CA=" + c.NATSCA,
		"LANTERN_CHECKPOINT_DIR=" + filepath.Join(state, "checkpoints"),
		"LANTERN_LEDGER_KEY_FILE=" + filepath.Join(state, "ledger.key"),
		sealed.EnvKEK + "=file:" + filepath.Join(state, "kek"),
		"LANTERN_REFERENCE_DIR=" + filepath.Join(Root(), "reference"),
		"LANTERN_POLICY_FILE=" + filepath.Join(Root(), "policy", "default.yaml"),
		"LANTERN_MATCH_KEY=cluster-match-key", "LANTERN_INTAKE_TOKENS=*=" + policeauth.Hash(PoliceToken),
		// The one cluster credential carries every force's load in the
		// benchmarks and fault suites, far past one force's limit.
		"INTAKE_RATE_LIMIT=1000000",
		"LANTERN_ACK_WAIT=" + clusterAckWait.String(), "LOG_LEVEL=info", "LANTERN_DEV_IDP=true", "LANTERN_DEV_USERS_FILE=" + c.usersFile,
	}, c.Layout.Env()...), extra...)
}

// FreePorts returns n ports that were free a moment ago.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		defer l.Close()
	}
	return ports
}

var (
	buildMu sync.Mutex
	built   = map[string]*buildResult{}
)

type buildResult struct {
	once sync.Once
	dir  string
	err  error
}

// mustBuild compiles every service once per test process and set of build
// tags, into one fixed folder per checkout and set so that repeated runs
// leave no copies behind, and checkouts tested at once on one machine do
// not run each other's binaries.
func mustBuild(t testing.TB, tags string) string {
	buildMu.Lock()
	b := built[tags]
	if b == nil {
		b = &buildResult{dir: binRoot()}
		if tags != "" {
			b.dir += "-" + strings.NewReplacer(",", "-", " ", "-").Replace(tags)
		}
		built[tags] = b
	}
	buildMu.Unlock()
	b.once.Do(func() { b.err = build(b.dir, tags) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.dir
}

// binRoot is the folder of the untagged build: one per checkout, so that
// the tests of two checkouts on one machine never run each other's
// binaries.
func binRoot() string {
	sum := sha256.Sum256([]byte(Root()))
	return filepath.Join(os.TempDir(), "lantern-cluster-bin-"+hex.EncodeToString(sum[:6]))
}

// build compiles every command as make run does, with the development
// identity provider (the devidp tag) that the clusters sign in through,
// plus any extra tags.
func build(dir, tags string) error {
	services := filepath.Join(Root(), "services")
	entries, err := os.ReadDir(services)
	if err != nil {
		return err
	}
	for _, e := range entries {
		cmds, _ := filepath.Glob(filepath.Join(services, e.Name(), "cmd", "*"))
		for _, cmdDir := range cmds {
			name := filepath.Base(cmdDir)
			if err := goBuild(filepath.Join(services, e.Name()), filepath.Join(dir, name), strings.Trim("devidp,"+tags, ","), "./cmd/"+name); err != nil {
				return err
			}
		}
	}
	// The fault proxy is a tool of this module, pinned in its go.mod.
	return goBuild(filepath.Join(services, "lantern"), filepath.Join(dir, toxiproxyBinary), "", toxiproxyPackage)
}

func goBuild(moduleDir, out, tags, pkg string) error {
	cmd := exec.Command("go", "build", "-tags="+tags, "-o", out, pkg)
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", pkg, err, out)
	}
	return nil
}

// Binary is the path of the named command as the cluster built it without
// build tags.
func Binary(name string) string {
	buildMu.Lock()
	defer buildMu.Unlock()
	if b := built[""]; b != nil {
		return filepath.Join(b.dir, name)
	}
	return filepath.Join(binRoot(), name)
}

// writeSampleUsers has the workspace binary write one sample user per role
// and organisation of the reference data, as make run does.
func (c *Cluster) writeSampleUsers() {
	cmd := exec.Command(filepath.Join(c.binDir, "workspace"), "dev-users",
		"--reference", filepath.Join(Root(), "reference"), "--out", c.usersFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("writing the sample users: %v\n%s", err, out)
	}
}

// UsersFile is the development identity provider's users file: usernames,
// passwords, roles and organisations of the workspace's sample users.
func (c *Cluster) UsersFile() string { return c.usersFile }

// Env returns the environment every service of the cluster gets.
func (c *Cluster) Env() []string { return append([]string(nil), c.env...) }

// KEKEnv is the LANTERN_KEK setting the cluster's services share, for
// commands an operator runs beside them.
func (c *Cluster) KEKEnv() string {
	for _, kv := range c.env {
		if strings.HasPrefix(kv, sealed.EnvKEK+"=") {
			return kv
		}
	}
	return ""
}

// WaitFor polls f until it returns nil or the timeout passes.
func (c *Cluster) WaitFor(timeout time.Duration, f func() error) {
	c.t.Helper()
	natstest.CheckFor(c.t, timeout, 50*time.Millisecond, f)
}

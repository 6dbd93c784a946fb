package natsauth

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Files of an authority's folder. The seeds are the only secrets; every
// file is readable by its owner alone.
const (
	operatorSeedFile = "operator.nk"
	accountSeedFile  = "account.nk"
	systemSeedFile   = "system.nk"
	revokedFile      = "revoked.txt"
	credsSuffix      = ".creds"
)

// Authority holds the keys that sign Lantern's NATS identities: the
// operator's, the Lantern account's and the system account's. JetStream
// keeps an account's streams under the account's public key, so the keys
// are created once and kept: a new account key would find no streams.
type Authority struct {
	dir                         string
	operator, account, system   nkeys.KeyPair
	operatorPub, accPub, sysPub string
	// revoked are the public keys of users whose credentials are refused.
	revoked []string
}

// Open loads the authority kept in dir, creating its keys on first use.
func Open(dir string) (*Authority, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("nats credentials folder: %w", err)
	}
	a := &Authority{dir: dir}
	var err error
	if a.operator, err = loadOrCreateKey(filepath.Join(dir, operatorSeedFile), nkeys.CreateOperator); err != nil {
		return nil, err
	}
	if a.account, err = loadOrCreateKey(filepath.Join(dir, accountSeedFile), nkeys.CreateAccount); err != nil {
		return nil, err
	}
	if a.system, err = loadOrCreateKey(filepath.Join(dir, systemSeedFile), nkeys.CreateAccount); err != nil {
		return nil, err
	}
	a.operatorPub, _ = a.operator.PublicKey()
	a.accPub, _ = a.account.PublicKey()
	a.sysPub, _ = a.system.PublicKey()
	if a.revoked, err = readLines(filepath.Join(dir, revokedFile)); err != nil {
		return nil, err
	}
	return a, nil
}

func loadOrCreateKey(path string, create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, error) {
	seed, err := os.ReadFile(path)
	if err == nil {
		kp, err := nkeys.FromSeed(bytes.TrimSpace(seed))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		return kp, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	kp, err := create()
	if err != nil {
		return nil, err
	}
	seed, _ = kp.Seed()
	if err := writeSecret(path, append(seed, '\n')); err != nil {
		return nil, err
	}
	return kp, nil
}

// Dir is the authority's folder, which also holds the credentials Issue
// writes: LANTERN_NATS_CREDS_DIR.
func (a *Authority) Dir() string { return a.dir }

// AccountPublicKey names the Lantern account, under which JetStream keeps
// the streams.
func (a *Authority) AccountPublicKey() string { return a.accPub }

// CredsFile is where Issue writes the named identity's credentials.
func CredsFile(dir, name string) string { return filepath.Join(dir, name+credsSuffix) }

// Issue writes a credentials file for every identity, a user JWT with its
// permissions and the user's seed. Each issue makes fresh user keys, so a
// key once revoked is never issued again.
func (a *Authority) Issue() error {
	for _, id := range Identities() {
		if err := a.IssueOne(id, 0); err != nil {
			return err
		}
	}
	return nil
}

// IssueOne writes credentials for id into the authority's folder, expiring
// after ttl (never when zero).
func (a *Authority) IssueOne(id Identity, ttl time.Duration) error {
	creds, err := a.UserCreds(id, ttl)
	if err != nil {
		return err
	}
	return writeSecret(CredsFile(a.dir, id.Name), creds)
}

// UserCreds returns a credentials file's contents for a new user of id.
func (a *Authority) UserCreds(id Identity, ttl time.Duration) ([]byte, error) {
	user, err := nkeys.CreateUser()
	if err != nil {
		return nil, err
	}
	pub, _ := user.PublicKey()
	uc := jwt.NewUserClaims(pub)
	uc.Name = id.Name
	uc.IssuerAccount = ""
	uc.Pub.Allow, uc.Pub.Deny = id.PublishAllow, id.PublishDeny
	uc.Sub.Allow, uc.Sub.Deny = id.SubscribeAllow, id.SubscribeDeny
	// Lantern's events are small; a megabyte leaves room for the largest
	// police notice and refuses anything meant to exhaust memory.
	uc.Limits.Payload = 1 << 20
	if ttl != 0 {
		uc.Expires = time.Now().Add(ttl).Unix()
	}
	token, err := uc.Encode(a.account)
	if err != nil {
		return nil, fmt.Errorf("signing the %s user: %w", id.Name, err)
	}
	seed, _ := user.Seed()
	return jwt.FormatUserConfig(token, seed)
}

// Revoke refuses, from the next account JWT the servers install, the user
// whose credentials are in creds.
func (a *Authority) Revoke(creds []byte) error {
	token, err := jwt.ParseDecoratedJWT(creds)
	if err != nil {
		return err
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return err
	}
	if !slices.Contains(a.revoked, uc.Subject) {
		a.revoked = append(a.revoked, uc.Subject)
	}
	return writeSecret(filepath.Join(a.dir, revokedFile), []byte(strings.Join(a.revoked, "\n")+"\n"))
}

// AccountClaims are the Lantern account's claims: JetStream enabled and
// the revoked users refused.
func (a *Authority) AccountClaims() *jwt.AccountClaims {
	ac := jwt.NewAccountClaims(a.accPub)
	ac.Name = "LANTERN"
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	for _, u := range a.revoked {
		// Everything the user was issued before now is refused.
		ac.RevokeAt(u, time.Now().Add(time.Second))
	}
	return ac
}

// AccountJWT is the Lantern account's JWT, signed by the operator.
func (a *Authority) AccountJWT() (string, error) { return a.AccountClaims().Encode(a.operator) }

func (a *Authority) systemJWT() (string, error) {
	sc := jwt.NewAccountClaims(a.sysPub)
	sc.Name = "SYS"
	return sc.Encode(a.operator)
}

func (a *Authority) operatorJWT() (string, error) {
	oc := jwt.NewOperatorClaims(a.operatorPub)
	oc.Name = "LANTERN"
	oc.SystemAccount = a.sysPub
	return oc.Encode(a.operator)
}

// ServerConfig is the part of a nats-server configuration that installs
// Lantern's accounts: the operator, the system account and both accounts'
// JWTs, preloaded into a memory resolver. It holds no secret. Every
// server of a cluster gets the same text; anonymous clients are refused.
func (a *Authority) ServerConfig() (string, error) {
	op, err := a.operatorJWT()
	if err != nil {
		return "", err
	}
	acc, err := a.AccountJWT()
	if err != nil {
		return "", err
	}
	sys, err := a.systemJWT()
	if err != nil {
		return "", err
	}
	preload := map[string]string{a.accPub: acc, a.sysPub: sys}
	keys := make([]string, 0, len(preload))
	for k := range preload {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "# Lantern's NATS accounts (operator %s). Install on every server.\n", a.operatorPub)
	fmt.Fprintf(&b, "operator: %q\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: {\n", op, a.sysPub)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %q\n", k, preload[k])
	}
	b.WriteString("}\n")
	return b.String(), nil
}

func writeSecret(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

// Prepare opens the authority in dir, issues every identity's credentials
// there and writes the servers' configuration to ServerConfigFile(dir):
// what make run and the test clusters do before they start the broker.
func Prepare(dir string) (*Authority, error) {
	a, err := Open(dir)
	if err != nil {
		return nil, err
	}
	if err := a.Issue(); err != nil {
		return nil, err
	}
	conf, err := a.ServerConfig()
	if err != nil {
		return nil, err
	}
	return a, writeSecret(ServerConfigFile(dir), []byte(conf))
}

// ServerConfigFile is where Prepare writes the servers' configuration.
func ServerConfigFile(dir string) string { return filepath.Join(dir, "accounts.conf") }

const routePasswordFile = "route.password"

// RoutePassword is the secret cluster routes authenticate with, made on
// first use and kept in the authority's folder.
func (a *Authority) RoutePassword() (string, error) {
	path := filepath.Join(a.dir, routePasswordFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", err
	}
	seed, _ := kp.Seed() // 56 characters of base32 randomness
	password := string(seed[2:])
	return password, writeSecret(path, []byte(password+"\n"))
}

// ClusterConfig is the cluster block of one server of a Lantern cluster:
// it listens for routes on listen, dials routes, and admits only routes
// that present the route password, so no stranger joins the cluster and
// reads its replicated streams. tlsBlock, if set, is a route tls block
// (devtls.Files.RouteConfig) with verify on: with both, a route must hold
// the password and a certificate of the cluster's authority.
func (a *Authority) ClusterConfig(name, listen string, routes []string, tlsBlock string) (string, error) {
	password, err := a.RoutePassword()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster {\n  name: %q\n  listen: %q\n", name, listen)
	fmt.Fprintf(&b, "  authorization {\n    user: \"lantern-route\"\n    password: %q\n  }\n", password)
	b.WriteString("  routes: [\n")
	for _, r := range routes {
		fmt.Fprintf(&b, "    %q\n", strings.Replace(r, "://", "://lantern-route:"+password+"@", 1))
	}
	b.WriteString("  ]\n")
	b.WriteString(tlsBlock)
	b.WriteString("}\n")
	return b.String(), nil
}

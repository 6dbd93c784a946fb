package natscmd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cli"
)

func run(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := cli.Run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("lantern %v: exit %d: %s", args, code, errOut.String())
	}
	return out.String()
}

func loadConfig(t *testing.T, conf string) *server.Options {
	t.Helper()
	file := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatalf("the printed configuration does not load: %v\n%s", err, conf)
	}
	return opts
}

// nkeySeed matches an operator, account or user seed: S, then O, A or U,
// then the rest of its 58 base32 characters. A bare "SUA" also turns up
// inside public keys by chance.
var nkeySeed = regexp.MustCompile(`\bS[OAU][A-Z2-7]{56}\b`)

func TestConfigPrintsWhatAServerInstallsAndRevokeRefusesTheOldCredentials(t *testing.T) {
	dir := t.TempDir()
	conf := run(t, "nats", "config", "--creds-dir", dir, "--routes", "nats-route://n2:6222,nats-route://n3:6222")
	opts := loadConfig(t, conf)
	if len(opts.TrustedOperators) != 1 || opts.SystemAccount == "" {
		t.Fatalf("operator %v, system account %q", opts.TrustedOperators, opts.SystemAccount)
	}
	if len(opts.Routes) != 2 || opts.Cluster.Password == "" {
		t.Fatalf("routes %v, route password set %v", opts.Routes, opts.Cluster.Password != "")
	}
	for _, id := range natsauth.Identities() {
		if st, err := os.Stat(natsauth.CredsFile(dir, id.Name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: credentials %v", id.Name, err)
		}
	}
	if nkeySeed.MatchString(conf) {
		t.Error("the server configuration holds a seed")
	}
	old, _ := os.ReadFile(natsauth.CredsFile(dir, "router"))
	revoked := run(t, "nats", "revoke", "--creds-dir", dir, "router")
	oldJWT, _ := jwt.ParseDecoratedJWT(old)
	user, _ := jwt.DecodeUserClaims(oldJWT)
	a, err := natsauth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	claims := a.AccountClaims()
	if !claims.IsClaimRevoked(user) {
		t.Error("the old router credentials are not revoked")
	}
	if !strings.Contains(revoked, a.AccountPublicKey()) {
		t.Error("revoke did not print the account to install")
	}
	fresh, _ := os.ReadFile(natsauth.CredsFile(dir, "router"))
	freshJWT, _ := jwt.ParseDecoratedJWT(fresh)
	freshUser, _ := jwt.DecodeUserClaims(freshJWT)
	if claims.IsClaimRevoked(freshUser) {
		t.Error("the router's new credentials are revoked too")
	}
}

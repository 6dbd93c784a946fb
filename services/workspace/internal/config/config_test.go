package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
)

func valid(t *testing.T) config.Config {
	t.Helper()
	users := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(users, []byte(`{"users":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Config{Common: pkgconfig.CommonFor("postgres://x@127.0.0.1/db", "nats://127.0.0.1:4222"),
		Addr: "127.0.0.1:8086", HTTPAddr: "127.0.0.1:8080", AdminAddr: "127.0.0.1:9086", Consumer: pkgconfig.Consumer{AckWait: 30 * time.Second},
		DevIdP: true, DevUsersFile: users, Settings: oidcauth.Settings{OIDCClientID: "lantern-workspace", RoleClaim: "lantern_role"},
		OrgClaim: "lantern_org", SessionTTL: 8 * time.Hour, SessionIdle: 30 * time.Minute,
		SignInRateLimit: 300, TrustedProxies: "127.0.0.0/8", MatchKey: "workspace-test-match-key"}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*config.Config)
		want   []string
	}{
		{"the development provider", func(*config.Config) {}, nil},
		{"a real issuer", func(c *config.Config) { c.DevIdP, c.OIDCIssuer = false, "https://login.example.org/tenant" }, nil},
		{"no way to sign in", func(c *config.Config) { c.DevIdP = false }, []string{"LANTERN_OIDC_ISSUER"}},
		{"both ways to sign in", func(c *config.Config) { c.OIDCIssuer = "https://login.example.org" }, []string{"not both"}},
		{"a missing users file", func(c *config.Config) { c.DevUsersFile = "/nonexistent/users.json" }, []string{"LANTERN_DEV_USERS_FILE"}},
		{"an idle timeout longer than the session", func(c *config.Config) { c.SessionIdle = 9 * time.Hour }, []string{"LANTERN_SESSION_IDLE"}},
		{"no idle timeout", func(c *config.Config) { c.SessionIdle = 0 }, []string{"LANTERN_SESSION_IDLE"}},
		{"the development provider on every interface", func(c *config.Config) { c.Addr = "0.0.0.0:8086" }, []string{"WORKSPACE_HTTP_ADDR"}},
		{"the development provider behind a public address", func(c *config.Config) { c.HTTPAddr = ":8080" }, []string{"LANTERN_HTTP_ADDR"}},
		{"the development provider on another host", func(c *config.Config) { c.HTTPAddr = "192.0.2.10:8080" }, []string{"LANTERN_HTTP_ADDR"}},
		{"the development provider behind https", func(c *config.Config) { c.PublicURL = "https://localhost:8443" }, []string{"LANTERN_PUBLIC_URL"}},
		{"the development provider at a public name", func(c *config.Config) { c.PublicURL = "http://lantern.example.gov.uk" }, []string{"LANTERN_PUBLIC_URL"}},
		{"the development provider on localhost and IPv6 loopback", func(c *config.Config) {
			c.Addr, c.HTTPAddr, c.PublicURL = "[::1]:8086", "localhost:8080", "http://localhost:8080"
		}, nil},
		{"the development provider forced off loopback", func(c *config.Config) {
			c.Addr, c.PublicURL, c.DevIdPForce = "0.0.0.0:8086", "https://lantern.example.gov.uk", true
		}, nil},
		{"a real issuer on every interface", func(c *config.Config) {
			c.DevIdP, c.OIDCIssuer, c.Addr, c.PublicURL = false, "https://login.example.org/tenant", "0.0.0.0:8086", "https://lantern.example.gov.uk"
		}, nil},
		{"no sign-in limit", func(c *config.Config) { c.SignInRateLimit = 0 }, []string{"LANTERN_SIGNIN_RATE_LIMIT"}},
		{"a trusted proxy that is no address", func(c *config.Config) { c.TrustedProxies = "gateway.local" }, []string{"LANTERN_TRUSTED_PROXIES"}},
		{"every problem at once", func(c *config.Config) {
			c.PublicURL, c.SessionTTL, c.Consumer.AckWait = "ftp://x", time.Minute, 0
		}, []string{"LANTERN_PUBLIC_URL", "LANTERN_SESSION_TTL", "LANTERN_ACK_WAIT"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid(t)
			tc.change(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors naming %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to name %s", err, w)
				}
			}
		})
	}
}

func TestIssuerAndPublicAddress(t *testing.T) {
	c := valid(t)
	if got, want := c.Issuer(), "http://127.0.0.1:8080/dev-idp"; got != want {
		t.Errorf("Issuer() = %q, want %q", got, want)
	}
	c.PublicURL = "https://lantern.example.org/"
	if got, want := c.Issuer(), "https://lantern.example.org/dev-idp"; got != want {
		t.Errorf("Issuer() behind TLS = %q, want %q", got, want)
	}
	if got := c.Audience(); got != "lantern-workspace" {
		t.Errorf("Audience() = %q, want the client id", got)
	}
}

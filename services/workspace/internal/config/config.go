// Package config holds the workspace's settings.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	Consumer config.Consumer
	// AdminAddr is where /healthz and /readyz are served.
	AdminAddr string `env:"WORKSPACE_ADMIN_ADDR, default=127.0.0.1:9086"`
	// Addr is where the workspace listens; the gateway forwards /, /v1/workspace/, /dev-idp/ and /static/ to it.
	Addr string `env:"WORKSPACE_HTTP_ADDR, default=127.0.0.1:8086"`
	// HTTPAddr is the gateway's address, the one people use.
	HTTPAddr string `env:"LANTERN_HTTP_ADDR, default=127.0.0.1:8080"`
	// PublicURL is the address browsers reach the gateway at, when it is not http://LANTERN_HTTP_ADDR (behind TLS, say).
	PublicURL string `env:"LANTERN_PUBLIC_URL"`
	// DevIdP turns on the built-in development identity provider at /dev-idp. Never in production:
	// only binaries built with the devidp tag have it, and it serves only loopback addresses.
	DevIdP bool `env:"LANTERN_DEV_IDP, default=false"`
	// DevIdPForce lets the development identity provider start although
	// the workspace is reachable from other machines or served over https,
	// which is where real people could sign in with its sample users.
	DevIdPForce bool `env:"LANTERN_DEV_IDP_FORCE, default=false"`
	// DevUsersFile is the sample users file `workspace dev-users` writes.
	DevUsersFile string `env:"LANTERN_DEV_USERS_FILE"`
	// Settings name the identity provider: a real OpenID Connect issuer,
	// left empty with LANTERN_DEV_IDP=true, and the aud API bearer tokens
	// must carry.
	oidcauth.Settings
	OIDCClientSecret string `env:"LANTERN_OIDC_CLIENT_SECRET"`
	// OrgClaim and OrgNameClaim name the claims that carry a person's
	// organisation.
	OrgClaim     string `env:"LANTERN_OIDC_ORG_CLAIM, default=lantern_org"`
	OrgNameClaim string `env:"LANTERN_OIDC_ORG_NAME_CLAIM, default=lantern_org_name"`
	// SessionTTL is how long a browser stays signed in.
	SessionTTL time.Duration `env:"LANTERN_SESSION_TTL, default=8h"`
	// SignInRateLimit is how many sign-in requests one client address may
	// make in a minute: starting a sign-in, coming back from the identity
	// provider, and the development provider's form and token endpoint
	// (there per user name). A council's staff may share one address.
	SignInRateLimit int `env:"LANTERN_SIGNIN_RATE_LIMIT, default=300"`
	// TrustedProxies are the addresses (the gateway's, a load balancer's)
	// whose X-Forwarded-For names the client.
	TrustedProxies string `env:"LANTERN_TRUSTED_PROXIES, default=127.0.0.0/8,::1/128"`
	// SessionIdle ends a session that has not been used for this long.
	SessionIdle time.Duration `env:"LANTERN_SESSION_IDLE, default=30m"`
	// PolicyFile is the routing policy in force, the baseline a policy
	// simulation compares with; ReferenceDir the reference data it routes
	// with.
	PolicyFile   string `env:"LANTERN_POLICY_FILE, default=policy/default.yaml"`
	ReferenceDir string `env:"LANTERN_REFERENCE_DIR, default=reference"`
	// MatchKey keys the hashes the MASH's earlier incidents are matched
	// by (the same secret as the router's), so that the index of people
	// holds no name, date of birth or NHS number.
	MatchKey string `env:"LANTERN_MATCH_KEY"`
}

// minMatchKey is the shortest match key accepted.
const minMatchKey = 16

// Public is the address browsers use, without a trailing slash.
func (c *Config) Public() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return "http://" + c.HTTPAddr
}

// Issuer is the OpenID Connect issuer: the configured one, or the built-in
// development provider under the public address.
func (c *Config) Issuer() string {
	if c.DevIdP {
		return c.Public() + "/dev-idp"
	}
	return strings.TrimRight(c.OIDCIssuer, "/")
}

// Proxies are the trusted proxies, parsed; Validate has checked them.
func (c *Config) Proxies() ratelimit.Proxies {
	p, _ := ratelimit.ParseProxies(c.TrustedProxies)
	return p
}

// AdminAddress is where the service environment serves /healthz and
// /readyz.
func (c *Config) AdminAddress() string { return c.AdminAddr }

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Common.Validate(), c.Consumer.Validate(), config.CheckAddr("WORKSPACE_HTTP_ADDR", c.Addr),
		config.CheckAddr("LANTERN_HTTP_ADDR", c.HTTPAddr), config.CheckAddr("WORKSPACE_ADMIN_ADDR", c.AdminAddr)}
	if len(c.MatchKey) < minMatchKey {
		errs = append(errs, fmt.Errorf("LANTERN_MATCH_KEY: at least %d characters of secret are needed to match people without keeping them", minMatchKey))
	}
	if u, err := url.Parse(c.Public()); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		errs = append(errs, fmt.Errorf("LANTERN_PUBLIC_URL: %q is not an http or https base address", c.PublicURL))
	}
	errs = append(errs, c.validateSignIn()...)
	if c.SessionTTL < 5*time.Minute || c.SessionTTL > 24*time.Hour {
		errs = append(errs, errors.New("LANTERN_SESSION_TTL must be between 5m and 24h"))
	}
	if c.SignInRateLimit < 1 {
		errs = append(errs, errors.New("LANTERN_SIGNIN_RATE_LIMIT must be at least 1 (requests a minute)"))
	}
	if _, err := ratelimit.ParseProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if c.SessionIdle < time.Minute || c.SessionIdle > c.SessionTTL {
		errs = append(errs, errors.New("LANTERN_SESSION_IDLE must be at least 1m and at most LANTERN_SESSION_TTL"))
	}
	return errors.Join(errs...)
}

// validateDevIdP keeps the development identity provider on this machine:
// it signs anyone in who reads the sample users file, so it refuses to start
// where other machines reach the workspace, or behind an https address, which
// only a real deployment has, unless LANTERN_DEV_IDP_FORCE says otherwise.
func (c *Config) validateDevIdP() []error {
	if c.DevIdPForce {
		return nil
	}
	var errs []error
	for _, a := range []struct{ name, addr string }{{"WORKSPACE_HTTP_ADDR", c.Addr}, {"LANTERN_HTTP_ADDR", c.HTTPAddr}} {
		if host, _, err := net.SplitHostPort(a.addr); err == nil && !isLoopback(host) {
			errs = append(errs, fmt.Errorf("LANTERN_DEV_IDP=true only on loopback: %s %q is reachable from other machines (LANTERN_DEV_IDP_FORCE=true overrides)", a.name, a.addr))
		}
	}
	if u, err := url.Parse(c.Public()); err == nil && (u.Scheme == "https" || !isLoopback(u.Hostname())) {
		errs = append(errs, fmt.Errorf("LANTERN_DEV_IDP=true only at an http loopback address: LANTERN_PUBLIC_URL %q is not one (LANTERN_DEV_IDP_FORCE=true overrides)", c.PublicURL))
	}
	return errs
}

// isLoopback reports whether host names only this machine: localhost or a
// loopback IP address. An empty host or 0.0.0.0 listens on every interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validateSignIn() []error {
	var errs []error
	switch {
	case c.DevIdP && c.OIDCIssuer != "":
		errs = append(errs, errors.New("set LANTERN_DEV_IDP=true or LANTERN_OIDC_ISSUER, not both"))
	case !c.DevIdP && c.OIDCIssuer == "":
		errs = append(errs, errors.New("set LANTERN_OIDC_ISSUER to your identity provider, or LANTERN_DEV_IDP=true for development"))
	case c.DevIdP:
		errs = append(errs, c.validateDevIdP()...)
		if c.DevUsersFile == "" {
			errs = append(errs, errors.New("LANTERN_DEV_USERS_FILE is required with LANTERN_DEV_IDP=true (write it with `workspace dev-users`)"))
		} else if _, err := os.Stat(c.DevUsersFile); err != nil {
			errs = append(errs, fmt.Errorf("LANTERN_DEV_USERS_FILE: %q cannot be read", c.DevUsersFile))
		}
	default:
		if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("LANTERN_OIDC_ISSUER: %q is not a URL", c.OIDCIssuer))
		}
	}
	if c.OIDCClientID == "" {
		errs = append(errs, errors.New("LANTERN_OIDC_CLIENT_ID must not be empty"))
	}
	if c.RoleClaim == "" || c.OrgClaim == "" {
		errs = append(errs, errors.New("LANTERN_OIDC_ROLE_CLAIM and LANTERN_OIDC_ORG_CLAIM must not be empty"))
	}
	return errs
}

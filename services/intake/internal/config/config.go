// Package config holds the intake service's settings.
package config

import (
	"errors"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	// Reference is the reference data (local authorities are checked
	// against it).
	Reference config.Reference
	// Police are the credentials police forces post notices with.
	Police policeauth.Settings
	// HTTPAddr is where the intake API listens.
	HTTPAddr string `env:"INTAKE_HTTP_ADDR, default=127.0.0.1:8081"`
	// AdminAddr is where /healthz and /readyz are served.
	AdminAddr string `env:"INTAKE_ADMIN_ADDR, default=127.0.0.1:9081"`
	// StoreTimeout bounds how long a request waits for PostgreSQL before it
	// is refused with 503.
	StoreTimeout time.Duration `env:"INTAKE_STORE_TIMEOUT, default=5s"`
	// RateLimit is how many requests one police credential may make in a
	// minute; far above what a force sends, even catching up on a backlog.
	RateLimit int `env:"INTAKE_RATE_LIMIT, default=6000"`
	// FailureRateLimit is how many requests without a valid credential
	// one client address may make in a minute.
	FailureRateLimit int `env:"INTAKE_FAILURE_RATE_LIMIT, default=60"`
	// TrustedProxies are the addresses (the gateway's, a load
	// balancer's) whose X-Forwarded-For names the client.
	TrustedProxies string `env:"LANTERN_TRUSTED_PROXIES, default=127.0.0.0/8,::1/128"`
	// proxies are TrustedProxies as Validate parsed them.
	proxies ratelimit.Proxies
}

// Proxies are the trusted proxies Validate parsed.
func (c *Config) Proxies() ratelimit.Proxies { return c.proxies }

// AdminAddress is where the service environment serves /healthz and
// /readyz.
func (c *Config) AdminAddress() string { return c.AdminAddr }

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Common.Validate(), c.Reference.Validate(), c.Police.Validate(),
		config.CheckAddr("INTAKE_HTTP_ADDR", c.HTTPAddr), config.CheckAddr("INTAKE_ADMIN_ADDR", c.AdminAddr)}
	if c.RateLimit < 1 || c.FailureRateLimit < 1 {
		errs = append(errs, errors.New("INTAKE_RATE_LIMIT and INTAKE_FAILURE_RATE_LIMIT must be at least 1 (requests a minute)"))
	}
	proxies, err := ratelimit.ParseProxies(c.TrustedProxies)
	c.proxies = proxies
	if err != nil {
		errs = append(errs, err)
	}
	if c.StoreTimeout <= 0 {
		errs = append(errs, errors.New("INTAKE_STORE_TIMEOUT must be positive"))
	}
	return errors.Join(errs...)
}

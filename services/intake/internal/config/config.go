// Package config holds the intake service's settings.
package config

import (
	"errors"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	// HTTPAddr is where the intake API listens.
	HTTPAddr string `env:"INTAKE_HTTP_ADDR, default=127.0.0.1:8081"`
	// ReferenceDir is the reference data folder (local authorities are
	// checked against it).
	ReferenceDir string `env:"LANTERN_REFERENCE_DIR, default=reference"`
	// IntakeTokens lists the police credentials as FORCE=sha256hex pairs,
	// comma separated; FORCE may be * for a credential valid for every
	// force. Only hashes are configured, never the tokens themselves.
	IntakeTokens string `env:"LANTERN_INTAKE_TOKENS"`
	// StoreTimeout bounds how long a request waits for PostgreSQL before it
	// is refused with 503.
	StoreTimeout time.Duration `env:"INTAKE_STORE_TIMEOUT, default=5s"`
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Common.Validate(), config.CheckAddr("INTAKE_HTTP_ADDR", c.HTTPAddr),
		config.CheckDir("LANTERN_REFERENCE_DIR", c.ReferenceDir)}
	if _, err := policeauth.Parse(c.IntakeTokens); err != nil {
		errs = append(errs, err)
	}
	if c.StoreTimeout <= 0 {
		errs = append(errs, errors.New("INTAKE_STORE_TIMEOUT must be positive"))
	}
	return errors.Join(errs...)
}

// Package config holds the ledger service's settings.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	Consumer config.Consumer
	// Police are the police credentials (see the intake service); a force
	// may read the timelines of its own incidents.
	Police policeauth.Settings
	// HTTPAddr is where the timeline and audit API listens.
	HTTPAddr string `env:"LEDGER_HTTP_ADDR, default=127.0.0.1:8084"`
	// AdminAddr is where /healthz and /readyz are served.
	AdminAddr string `env:"LEDGER_ADMIN_ADDR, default=127.0.0.1:9084"`
	// Settings name the identity provider the audit API takes auditors'
	// access tokens from (the workspace's); without an issuer the audit
	// API lets nobody in. The audience and the role claim are the
	// workspace's.
	oidcauth.Settings
	// CheckpointDir is where signed checkpoints are written, outside the
	// database, so that a rewritten or rolled-back ledger can be caught.
	CheckpointDir string `env:"LANTERN_CHECKPOINT_DIR, default=.lantern/checkpoints"`
	// KeyFile is the Ed25519 key that signs checkpoints, made on first
	// start if missing, with its public key written beside it (.pub).
	KeyFile string `env:"LANTERN_LEDGER_KEY_FILE, default=.lantern/ledger.key"`
	// CheckpointEvery asks for a checkpoint after this many appends.
	CheckpointEvery int64 `env:"LANTERN_CHECKPOINT_EVERY, default=1000"`
	// CheckpointInterval asks for one this often when anything was
	// appended; a last one is written at shutdown.
	CheckpointInterval time.Duration `env:"LANTERN_CHECKPOINT_INTERVAL, default=60s"`
	// RetentionInterval is how often the ledger shreds the incidents whose
	// retention has ended (LANTERN_RETENTION_FILE's policy); one replica
	// runs at a time. 0 turns the schedule off, for a deployment that runs
	// "lantern retention run" itself.
	RetentionInterval time.Duration `env:"LANTERN_RETENTION_INTERVAL, default=1h"`
}

// AdminAddress is where the service environment serves /healthz and
// /readyz.
func (c *Config) AdminAddress() string { return c.AdminAddr }

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Common.Validate(), c.Consumer.Validate(), c.Police.Validate(),
		config.CheckAddr("LEDGER_HTTP_ADDR", c.HTTPAddr), config.CheckAddr("LEDGER_ADMIN_ADDR", c.AdminAddr)}
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("LANTERN_OIDC_ISSUER: %q is not a URL", c.OIDCIssuer))
		}
		if c.Audience() == "" || c.RoleClaim == "" {
			errs = append(errs, errors.New("LANTERN_OIDC_AUDIENCE (or LANTERN_OIDC_CLIENT_ID) and LANTERN_OIDC_ROLE_CLAIM must not be empty"))
		}
	}
	if c.CheckpointDir == "" || c.KeyFile == "" {
		errs = append(errs, errors.New("LANTERN_CHECKPOINT_DIR and LANTERN_LEDGER_KEY_FILE must not be empty"))
	}
	if c.CheckpointEvery < 1 {
		errs = append(errs, errors.New("LANTERN_CHECKPOINT_EVERY must be at least 1"))
	}
	if c.CheckpointInterval < time.Second {
		errs = append(errs, errors.New("LANTERN_CHECKPOINT_INTERVAL must be at least 1s"))
	}
	if c.RetentionInterval != 0 && c.RetentionInterval < time.Second {
		errs = append(errs, errors.New("LANTERN_RETENTION_INTERVAL must be 0 (off) or at least 1s"))
	}
	return errors.Join(errs...)
}

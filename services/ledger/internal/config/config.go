// Package config holds the ledger service's settings.
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
	// HTTPAddr is where the timeline and audit API listens.
	HTTPAddr string `env:"LEDGER_HTTP_ADDR, default=127.0.0.1:8084"`
	// IntakeTokens are the police credentials (see the intake service);
	// a force may read the timelines of its own incidents, and a
	// credential for every force may read the audit report.
	IntakeTokens string `env:"LANTERN_INTAKE_TOKENS"`
	// AckWait bounds how long a crashed ledger delays an event.
	AckWait time.Duration `env:"LANTERN_ACK_WAIT, default=30s"`
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
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Common.Validate(), config.CheckAddr("LEDGER_HTTP_ADDR", c.HTTPAddr)}
	if _, err := policeauth.Parse(c.IntakeTokens); err != nil {
		errs = append(errs, err)
	}
	if c.AckWait < time.Second {
		errs = append(errs, errors.New("LANTERN_ACK_WAIT must be at least 1s"))
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
	return errors.Join(errs...)
}

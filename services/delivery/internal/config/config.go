// Package config holds the delivery service's settings.
package config

import (
	"errors"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/config"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	// AckWait bounds how long a crashed delivery service delays an event.
	AckWait time.Duration `env:"LANTERN_ACK_WAIT, default=30s"`
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Common.Validate()}
	if c.AckWait < time.Second {
		errs = append(errs, errors.New("LANTERN_ACK_WAIT must be at least 1s"))
	}
	return errors.Join(errs...)
}

// Package config holds the delivery service's settings.
package config

import (
	"errors"

	"github.com/lantern-safeguarding/lantern/pkg/config"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	Consumer config.Consumer
	// EventIDs keys the ids of notification.delivered and .failed.
	EventIDs config.EventIDs
	// AdminAddr is where /healthz and /readyz are served.
	AdminAddr string `env:"DELIVERY_ADMIN_ADDR, default=127.0.0.1:9083"`
}

// AdminAddress is where the service environment serves /healthz and
// /readyz.
func (c *Config) AdminAddress() string { return c.AdminAddr }

// Validate reports every problem at once.
func (c *Config) Validate() error {
	return errors.Join(c.Common.Validate(), c.Consumer.Validate(), c.EventIDs.Validate(), config.CheckAddr("DELIVERY_ADMIN_ADDR", c.AdminAddr))
}

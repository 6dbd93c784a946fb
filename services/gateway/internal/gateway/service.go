package gateway

import (
	"context"
	"errors"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
)

// Config is the gateway's settings, read from the environment at start.
type Config struct {
	Shutdown config.Shutdown
	Logging  config.Logging
	// HTTPAddr is the one public base address.
	HTTPAddr string `env:"LANTERN_HTTP_ADDR, default=127.0.0.1:8080"`
	// AdminAddr is where /healthz and /readyz are served.
	AdminAddr string `env:"GATEWAY_ADMIN_ADDR, default=127.0.0.1:9080"`
	// Routes maps path patterns to upstream services.
	Routes string `env:"GATEWAY_ROUTES, required"`
	// routes are Routes as Validate parsed them.
	routes []Route
}

// Validate reports every problem at once and keeps the parsed routes.
func (c *Config) Validate() error {
	routes, err := ParseRoutes(c.Routes)
	c.routes = routes
	return errors.Join(c.Shutdown.Validate(), c.Logging.Validate(), err,
		config.CheckAddr("LANTERN_HTTP_ADDR", c.HTTPAddr), config.CheckAddr("GATEWAY_ADMIN_ADDR", c.AdminAddr))
}

// Service is the gateway as the service environment runs it: no database,
// no broker, one listener.
var Service = serverenv.Service[Config]{
	Name: "gateway",
	Options: func(c *Config) serverenv.Options {
		return serverenv.Options{AdminAddr: c.AdminAddr, Shutdown: c.Shutdown}
	},
	Build: func(_ context.Context, env *serverenv.Env, c *Config) error {
		_, err := env.Listen("gateway", c.HTTPAddr, Handler(c.routes))
		return err
	},
}

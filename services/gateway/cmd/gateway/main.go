// Command gateway serves all of Lantern's HTTP surface from one address.
package main

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/httpserver"
	"github.com/lantern-safeguarding/lantern/pkg/service"
	"github.com/lantern-safeguarding/lantern/services/gateway/internal/gateway"
)

type settings struct {
	// HTTPAddr is the one public base address.
	HTTPAddr string `env:"LANTERN_HTTP_ADDR, default=127.0.0.1:8080"`
	// Routes maps path patterns to upstream services.
	Routes string `env:"GATEWAY_ROUTES, required"`
}

func (s *settings) Validate() error {
	_, err := gateway.ParseRoutes(s.Routes)
	return errors.Join(config.CheckAddr("LANTERN_HTTP_ADDR", s.HTTPAddr), err)
}

func main() {
	service.Main("gateway", func(ctx context.Context, log *zap.Logger) error {
		var cfg settings
		if err := config.Load(ctx, &cfg); err != nil {
			return err
		}
		routes, _ := gateway.ParseRoutes(cfg.Routes)
		srv, err := httpserver.Listen(cfg.HTTPAddr, gateway.Handler(routes))
		if err != nil {
			return err
		}
		return srv.Serve(ctx, log, 10*time.Second)
	})
}

// Command router runs Lantern's router, which decides who must be told of
// each incident.
package main

import (
	"context"

	"go.uber.org/zap"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/service"
	"github.com/lantern-safeguarding/lantern/services/router/internal/app"
	"github.com/lantern-safeguarding/lantern/services/router/internal/config"
)

func main() {
	service.Main("router", func(ctx context.Context, log *zap.Logger) error {
		var cfg config.Config
		if err := pkgconfig.Load(ctx, &cfg); err != nil {
			return err
		}
		log.Info("starting", zap.String("database", pkgconfig.Redact(cfg.DatabaseURL)))
		return app.Run(ctx, &cfg, log)
	})
}

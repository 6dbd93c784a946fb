// Command intake runs Lantern's police intake API.
package main

import (
	"context"

	"go.uber.org/zap"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/service"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/app"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/config"
)

func main() {
	service.Main("intake", func(ctx context.Context, log *zap.Logger) error {
		var cfg config.Config
		if err := pkgconfig.Load(ctx, &cfg); err != nil {
			return err
		}
		log.Info("starting", zap.String("http_addr", cfg.HTTPAddr), zap.String("database", pkgconfig.Redact(cfg.DatabaseURL)))
		return app.Run(ctx, &cfg, log)
	})
}

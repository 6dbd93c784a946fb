// Command delivery runs Lantern's delivery service, which puts each notice in
// its recipient's inbox.
package main

import (
	"context"

	"go.uber.org/zap"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/service"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/app"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/config"
)

func main() {
	service.Main("delivery", func(ctx context.Context, log *zap.Logger) error {
		var cfg config.Config
		if err := pkgconfig.Load(ctx, &cfg); err != nil {
			return err
		}
		log.Info("starting", zap.String("database", pkgconfig.Redact(cfg.DatabaseURL)))
		return app.Run(ctx, &cfg, log)
	})
}

// Command escalation runs Lantern's escalation service, which raises
// sla.at_risk and sla.breached when a notice's deadline is near or missed and
// names the recipient organisation's manager to warn.
package main

import (
	"context"

	"go.uber.org/zap"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/service"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/app"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/config"
)

func main() {
	service.Main("escalation", func(ctx context.Context, log *zap.Logger) error {
		var cfg config.Config
		if err := pkgconfig.Load(ctx, &cfg); err != nil {
			return err
		}
		log.Info("starting", zap.String("database", pkgconfig.Redact(cfg.DatabaseURL)),
			zap.Duration("lead", cfg.Lead), zap.Duration("tick", cfg.Tick))
		return app.Run(ctx, &cfg, log)
	})
}

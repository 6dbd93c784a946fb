// Command ledger runs Lantern's ledger, which records every event in a
// hash-chained, append-only table and serves incident timelines.
package main

import (
	"context"

	"go.uber.org/zap"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/service"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/app"
	"github.com/lantern-safeguarding/lantern/services/ledger/internal/config"
)

func main() {
	service.Main("ledger", func(ctx context.Context, log *zap.Logger) error {
		var cfg config.Config
		if err := pkgconfig.Load(ctx, &cfg); err != nil {
			return err
		}
		log.Info("starting", zap.String("database", pkgconfig.Redact(cfg.DatabaseURL)))
		return app.Run(ctx, &cfg, log)
	})
}

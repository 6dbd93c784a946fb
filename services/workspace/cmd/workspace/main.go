// Command workspace runs Lantern's workspace, the pages and API where the
// people who receive notices read, acknowledge and triage them. Its
// dev-users subcommand writes the development identity provider's sample
// users for a reference data folder.
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/service"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/app"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "dev-users" {
		os.Exit(devUsers(os.Args[2:], os.Stdout, os.Stderr))
	}
	service.Main("workspace", func(ctx context.Context, log *zap.Logger) error {
		var cfg config.Config
		if err := pkgconfig.Load(ctx, &cfg); err != nil {
			return err
		}
		log.Info("starting", zap.String("database", pkgconfig.Redact(cfg.DatabaseURL)),
			zap.String("public_url", cfg.Public()), zap.String("issuer", cfg.Issuer()))
		return app.Run(ctx, &cfg, log)
	})
}

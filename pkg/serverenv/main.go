package serverenv

import (
	"context"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/service"
)

// Service describes a service to Main and Run: its name, the capabilities
// its settings ask for, and how it adds its parts to the environment.
type Service[C any] struct {
	Name string
	// Options picks, from the validated settings, what Setup builds; nil
	// means OptionsFor.
	Options func(cfg *C) Options
	// Build migrates the schema (Env.Migrate) and adds the service's
	// consumers, relays, listeners and goroutines to env. It runs after the
	// database and broker are open, and must not block.
	Build func(ctx context.Context, env *Env, cfg *C) error
}

// Main is a service binary's whole main: signals, logger, settings read
// and validated once, the environment, and Run.
func Main[C any, P interface {
	*C
	config.Validator
}](s Service[C]) {
	service.Main(s.Name, func(ctx context.Context, log *zap.Logger) error {
		cfg := P(new(C))
		if err := config.Load(ctx, cfg); err != nil {
			return err
		}
		return Run(ctx, log, s, (*C)(cfg))
	})
}

// Run sets up the environment for s, builds the service on it and runs it
// until ctx ends. Tests call it with settings of their own.
func Run[C any](ctx context.Context, log *zap.Logger, s Service[C], cfg *C) error {
	opts := OptionsFor(cfg)
	if s.Options != nil {
		opts = s.Options(cfg)
	}
	env, err := Setup(ctx, s.Name, log, opts)
	if err != nil {
		return err
	}
	defer env.Close()
	if err := s.Build(ctx, env, cfg); err != nil {
		return err
	}
	return env.Run(ctx)
}

// OptionsFor asks the settings for the capabilities they describe: an admin
// address (AdminAddress), and the database, broker and shutdown grace of
// config.Common when the settings embed it.
func OptionsFor(cfg any) Options {
	var o Options
	if a, ok := cfg.(interface{ AdminAddress() string }); ok {
		o.AdminAddr = a.AdminAddress()
	}
	if c, ok := cfg.(interface{ CommonSettings() *config.Common }); ok {
		common := c.CommonSettings()
		o.Shutdown, o.Database, o.NATS = common.Shutdown, &common.Database, &common.NATS
	}
	return o
}

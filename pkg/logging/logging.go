// Package logging builds Lantern's zap loggers and carries them in a
// context. Logs hold identifiers (incident, notification and event ids) and
// never personal data: no names, dates of birth, addresses or free text from
// a notice may be passed to a logger.
package logging

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New builds a logger. mode is "production" (JSON, the default) or
// "development" (coloured console); level is a zap level name.
func New(service, mode, level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(strings.ToLower(strings.TrimSpace(orDefault(level, "info"))))
	if err != nil {
		return nil, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	var cfg zap.Config
	switch orDefault(mode, "production") {
	case "production":
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "time"
		cfg.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	case "development":
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		// Stack traces on every warning drown the interleaved output of
		// `make run`; errors carry their cause in the message.
		cfg.DisableStacktrace = true
	default:
		return nil, fmt.Errorf("LOG_MODE: %q is neither production nor development", mode)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	// Sampling would silently drop repeated audit-relevant lines.
	cfg.Sampling = nil
	log, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("building logger: %w", err)
	}
	return log.With(zap.String("service", service)), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type ctxKey struct{}

// WithLogger returns a context carrying log.
func WithLogger(ctx context.Context, log *zap.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, log)
}

// FromContext returns the context's logger, or a no-op logger so that code
// never has to check.
func FromContext(ctx context.Context) *zap.Logger {
	if log, ok := ctx.Value(ctxKey{}).(*zap.Logger); ok {
		return log
	}
	return zap.NewNop()
}

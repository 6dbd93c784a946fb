// Package service is the common start-up of every Lantern binary: a context
// cancelled by SIGINT or SIGTERM, a logger, panic logging and an exit code.
package service

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/logging"
)

// Main runs realMain with a signal-aware context and a logger built from
// LOG_MODE and LOG_LEVEL, and exits 1 if it fails.
func Main(name string, realMain func(ctx context.Context, log *zap.Logger) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log, err := logging.New(name, os.Getenv("LOG_MODE"), os.Getenv("LOG_LEVEL"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	defer func() { _ = log.Sync() }()
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic", zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
			os.Exit(2)
		}
	}()
	if err := realMain(logging.WithLogger(ctx, log), log); err != nil {
		log.Error("exiting", zap.Error(err))
		_ = log.Sync()
		os.Exit(1)
	}
}

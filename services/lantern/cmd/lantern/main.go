// Command lantern is the operators' and auditors' tool: `lantern run` starts
// the whole pipeline locally and `lantern audit` reads the audit record.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := cliRun(ctx)
	stop()
	os.Exit(code)
}

package main

import (
	"context"
	"os"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cli"
)

func cliRun(ctx context.Context) int { return cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr) }

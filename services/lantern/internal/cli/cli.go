// Package cli is the `lantern` command for operators and auditors: it runs
// the local pipeline and reads the audit record.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/devstack"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/dlq"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/simulate"
)

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runStack(ctx, args[1:], stdout)
	case "audit":
		err = audit(ctx, args[1:], stdout, stderr)
	case "simulate":
		err = simulate.Run(ctx, args[1:], stdout, stderr)
	case "dlq":
		err = dlq.Run(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "lantern: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "lantern: %v\n", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `lantern: operate and audit a Lantern pipeline.

Commands:
  lantern run                         run the whole pipeline locally (what make run does)
  lantern audit timeline <incident>   every step of an incident and of each child, with deadlines
                                      and whether each was met (--format text|json)
  lantern audit verify                recompute the ledger's hash chain and check it against the
                                      signed checkpoints; names the first bad entry
  lantern audit replay                rebuild every projection from the stream or the ledger into an
                                      empty database and compare its digest with the live one
                                      (--from stream|ledger --target-database-url URL)
  lantern audit digest                the digest of the live projections
  lantern audit report                the JTAI timeliness report
                                      (--from YYYY-MM-DD --to YYYY-MM-DD --format html|csv|json [--out FILE])

  lantern simulate                    a police feed of realistic synthetic notices, at a steady rate
                                      or as a burst (--rate, --burst, --duration, --count; --help)
  lantern dlq list|redrive            messages that exhausted their deliveries, with the reason;
                                      redrive puts them back once the cause is fixed

Every audit command records who read the ledger and why (--actor, --purpose).

Environment: DATABASE_URL, NATS_URL, LANTERN_REFERENCE_DIR, LANTERN_HTTP_ADDR, LANTERN_CHECKPOINT_DIR,
LANTERN_LEDGER_KEY_FILE, LANTERN_ACTOR (see README.md).
`)
}

func runStack(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	root := fs.String("root", ".", "project root (holds bin/, reference/ and .lantern/)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	abs, err := filepath.Abs(*root)
	if err != nil {
		return err
	}
	return devstack.Run(ctx, devstack.Options{
		StateDir:     filepath.Join(abs, ".lantern"),
		BinDir:       filepath.Join(abs, "bin"),
		HTTPAddr:     envOr("LANTERN_HTTP_ADDR", "127.0.0.1:8080"),
		DatabaseURL:  os.Getenv("DATABASE_URL"),
		NATSURL:      os.Getenv("NATS_URL"),
		ReferenceDir: envOr("LANTERN_REFERENCE_DIR", filepath.Join(abs, "reference")),
		PolicyFile:   envOr("LANTERN_POLICY_FILE", filepath.Join(abs, "policy", "default.yaml")),
		Out:          out,
	})
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Package cli is the `lantern` command for operators and auditors: it runs
// the local pipeline and reads the audit record.
package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/dbcmd"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/devstack"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/dlq"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/natscmd"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/reconcile"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/simulate"
)

// Run executes the command line args and returns the process exit code:
// 0, 1 when the work failed, 2 for a mistake on the command line.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return command.Execute(ctx, NewRoot(), args, stdout, stderr)
}

// NewRoot is the whole lantern command tree. Other commands are added to
// it here, each built by its own package.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "lantern",
		Short: "operate and audit a Lantern pipeline",
		Long: `lantern: operate and audit a Lantern pipeline.

Every audit command records who read the ledger and why (--actor, --purpose).
The servers are found from the flags, else the environment (DATABASE_URL, NATS_URL), else the
settings make run leaves in .lantern/connection.json while it runs.
See README.md for LANTERN_REFERENCE_DIR, LANTERN_HTTP_ADDR, LANTERN_CHECKPOINT_DIR,
LANTERN_LEDGER_KEY_FILE and LANTERN_ACTOR.`,
	}
	return command.Group(root, newRunCommand(), newAuditCommand(), newRetentionCommand(), newKeysCommand(), newPolicyCommand(), newRefdataCommand(), simulate.NewCommand(), dlq.NewCommand(), reconcile.NewCommand(), natscmd.NewCommand(), dbcmd.NewCommand())
}

func newRunCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "run the whole pipeline locally (what make run does)",
		Args:  command.Args(),
	}
	root := cmd.Flags().String("root", ".", "project root (holds bin/, reference/ and .lantern/)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		abs, err := filepath.Abs(*root)
		if err != nil {
			return err
		}
		return devstack.Run(cmd.Context(), devstack.Options{
			StateDir:     filepath.Join(abs, ".lantern"),
			BinDir:       filepath.Join(abs, "bin"),
			HTTPAddr:     envOrDefault("LANTERN_HTTP_ADDR", "127.0.0.1:8080"),
			DatabaseURL:  os.Getenv("DATABASE_URL"),
			NATSURL:      os.Getenv("NATS_URL"),
			ReferenceDir: envOrDefault("LANTERN_REFERENCE_DIR", filepath.Join(abs, "reference")),
			PolicyFile:   envOrDefault("LANTERN_POLICY_FILE", filepath.Join(abs, "policy", "default.yaml")),
			Out:          cmd.OutOrStdout(),
		})
	}
	return cmd
}

func envOrDefault(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// ErrTampered is returned when verification finds a bad entry.
var ErrTampered = errors.New("the ledger has been tampered with")

func newVerifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "recompute the ledger's hash chain and check it against the signed checkpoints; names the first bad entry",
		Args:  command.Args(),
	}
	cmd.Flags().String("checkpoints", "", "checkpoint folder (default $LANTERN_CHECKPOINT_DIR, else make run's, else "+auditlog.DefaultCheckpointDir+")")
	cmd.Flags().String("public-key", "", "the ledger's public key (default $LANTERN_LEDGER_PUBLIC_KEY, else beside the ledger's key file)")
	chainOnly := cmd.Flags().Bool("chain-only", false, "check the chain alone, without checkpoints (truncation and rollback go unseen)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		out := cmd.OutOrStdout()
		dir, pub, err := ledgerFiles(cmd)
		if err != nil {
			return err
		}
		cps, err := loadCheckpoints(dir, pub, *chainOnly, out)
		if err != nil {
			return err
		}
		return readLive(cmd, "verify", "ledger", func(ctx context.Context, s *session) error {
			return verifyLedger(ctx, s, cps, *chainOnly, out, cmd.ErrOrStderr())
		})
	}
	return cmd
}

// ledgerFiles resolves the checkpoint folder and the public key: the
// flags, else the environment, else those of the pipeline make run runs,
// else the ledger service's defaults.
func ledgerFiles(cmd *cobra.Command) (dir, pub string, err error) {
	dirFlag, _ := cmd.Flags().GetString("checkpoints")
	d, err := localenv.Resolve("checkpoints", dirFlag, cmd.Flags().Changed("checkpoints"), "LANTERN_CHECKPOINT_DIR",
		func(s localenv.Settings) string { return s.CheckpointDir })
	if err != nil {
		return "", "", err
	}
	pubFlag, _ := cmd.Flags().GetString("public-key")
	if cmd.Flags().Changed("public-key") {
		return orDefault(d.Value, auditlog.DefaultCheckpointDir), pubFlag, nil
	}
	if p := os.Getenv("LANTERN_LEDGER_PUBLIC_KEY"); p != "" {
		return orDefault(d.Value, auditlog.DefaultCheckpointDir), p, nil
	}
	k, err := localenv.Resolve("", "", false, "LANTERN_LEDGER_KEY_FILE", func(s localenv.Settings) string { return s.LedgerKeyFile })
	if err != nil {
		return "", "", err
	}
	return orDefault(d.Value, auditlog.DefaultCheckpointDir), auditlog.PublicKeyPath(orDefault(k.Value, auditlog.DefaultKeyFile)), nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// loadCheckpoints reads and checks every checkpoint, and says which it
// will check against.
func loadCheckpoints(dir, pubPath string, chainOnly bool, out io.Writer) ([]auditlog.FileCheckpoint, error) {
	if chainOnly {
		fmt.Fprintln(out, "Checking the chain alone: a truncated or rolled-back ledger would pass.")
		return nil, nil
	}
	pub, err := auditlog.LoadPublicKey(pubPath)
	if err != nil {
		return nil, fmt.Errorf("%w (pass --public-key, or --chain-only to check without checkpoints)", err)
	}
	cps, err := auditlog.ReadCheckpoints(dir, pub)
	if err != nil {
		return nil, err
	}
	describeCheckpoints(out, dir, pub, cps)
	return cps, nil
}

func describeCheckpoints(out io.Writer, dir string, pub ed25519.PublicKey, cps []auditlog.FileCheckpoint) {
	if len(cps) == 0 {
		fmt.Fprintf(out, "No checkpoints in %s.\n", dir)
		return
	}
	last := cps[len(cps)-1]
	fmt.Fprintf(out, "%d checkpoints in %s, signed by key %s; the newest, %s, covers entries 1 to %d (signed %s).\n",
		len(cps), dir, auditlog.KeyID(pub), filepath.Base(last.Path), last.Seq, londonTime(last.Time))
}

// verifyWithProgress verifies the ledger's chain against cps, showing its
// progress on errOut.
func verifyWithProgress(ctx context.Context, s *session, cps []auditlog.FileCheckpoint, errOut io.Writer) (auditlog.Result, error) {
	var bar *progress
	res, err := auditlog.VerifyDatabase(ctx, s.pool, auditlog.VerifyOptions{Checkpoints: cps, ProgressEvery: 5000,
		Progress: func(done, total int64) {
			if bar == nil {
				bar = newProgress(errOut, "verifying", total, clock.System)
			}
			bar.set(done)
		}})
	if bar != nil {
		bar.finish()
	}
	return res, err
}

func verifyLedger(ctx context.Context, s *session, cps []auditlog.FileCheckpoint, chainOnly bool, out, errOut io.Writer) error {
	res, err := verifyWithProgress(ctx, s, cps, errOut)
	if err != nil {
		return err
	}
	if res.Problem != nil {
		fmt.Fprintf(out, "FAILED: the first bad entry is %d: %s\n", res.Problem.Seq, res.Problem.Reason)
		return fmt.Errorf("%w: first bad entry %d", ErrTampered, res.Problem.Seq)
	}
	if !chainOnly && len(cps) == 0 && res.Entries > 0 {
		fmt.Fprintf(out, "The chain of %d entries is intact, but there is no checkpoint to check it against.\n", res.Entries)
		return errors.New("no checkpoints: truncation or rollback cannot be ruled out (pass --chain-only to accept this)")
	}
	if chainOnly {
		fmt.Fprintf(out, "OK: %d entries; every hash recomputes and every column matches its event.\n", res.Entries)
		return nil
	}
	fmt.Fprintf(out, "OK: %d entries; every hash recomputes, every column matches its event, and the ledger extends its newest checkpoint.\n", res.Entries)
	return nil
}

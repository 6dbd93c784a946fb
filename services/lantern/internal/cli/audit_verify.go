package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/lantern-safeguarding/lantern/pkg/auditlog"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
)

// ErrTampered is returned when verification finds a bad entry.
var ErrTampered = errors.New("the ledger has been tampered with")

func auditVerify(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	dir := fs.String("checkpoints", envOrDefault("LANTERN_CHECKPOINT_DIR", auditlog.DefaultCheckpointDir), "checkpoint folder")
	pubPath := fs.String("public-key", defaultPublicKey(), "the ledger's public key")
	chainOnly := fs.Bool("chain-only", false, "check the chain alone, without checkpoints (truncation and rollback go unseen)")
	who := addReaderFlags(fs)
	if pos, err := parseFlags(fs, args); err != nil || len(pos) != 0 {
		return errors.Join(err, errors.New("usage: lantern audit verify [--checkpoints DIR] [--public-key FILE] [--chain-only]"))
	}
	cps, err := loadCheckpoints(*dir, *pubPath, *chainOnly, out)
	if err != nil {
		return err
	}
	s, err := openLive(ctx, who)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.record(ctx, "verify", "ledger"); err != nil {
		return err
	}
	return verifyLedger(ctx, s, cps, *chainOnly, out, errOut)
}

func defaultPublicKey() string {
	if p := envOrDefault("LANTERN_LEDGER_PUBLIC_KEY", ""); p != "" {
		return p
	}
	return auditlog.PublicKeyPath(envOrDefault("LANTERN_LEDGER_KEY_FILE", auditlog.DefaultKeyFile))
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

func verifyLedger(ctx context.Context, s *session, cps []auditlog.FileCheckpoint, chainOnly bool, out, errOut io.Writer) error {
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

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// ErrDigestMismatch is returned when a replay does not reach the live state.
var ErrDigestMismatch = errors.New("the replayed projections differ from the live ones")

type replayOptions struct {
	from      string
	target    string
	nats      localenv.Setting
	noCompare bool
	// unverified replays a ledger that fails verification.
	unverified bool
}

func newReplayCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay --target-database-url URL",
		Short: "rebuild every projection from the stream or the ledger into an empty database and compare its digest with the live one",
		Args:  command.Args(),
	}
	var o replayOptions
	from := command.ChoiceFlag(cmd, "from", "where to read the events: JetStream (--nats-url) or the ledger (--database-url)", "stream", "ledger")
	cmd.Flags().StringVar(&o.target, "target-database-url", "", "an empty database to rebuild the projections in (required)")
	cmd.Flags().BoolVar(&o.noCompare, "no-compare", false, "do not compare with the live digest")
	cmd.Flags().BoolVar(&o.unverified, "ignore-verification", false, "replay the ledger even if its hash chain fails verification")
	localenv.AddNATSFlag(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o.from = from.String()
		if o.target == "" {
			return command.Usagef("needs an empty database to rebuild in: type lantern audit replay --target-database-url postgres://…")
		}
		if o.from == "stream" {
			var err error
			if o.nats, err = localenv.NATSURL(cmd); err != nil {
				return err
			}
		}
		return readLive(cmd, "replay", "from "+o.from, func(ctx context.Context, s *session) error {
			return replay(ctx, s, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		})
	}
	return cmd
}

func replay(ctx context.Context, s *session, o replayOptions, out, errOut io.Writer) error {
	if o.from == "ledger" {
		if err := verifyBeforeReplay(ctx, s, o.unverified, out, errOut); err != nil {
			return err
		}
	}
	target, err := openEmptyTarget(ctx, o.target)
	if err != nil {
		return err
	}
	defer target.Close()
	start := time.Now()
	if err := rebuild(ctx, s, o, target, out, errOut); err != nil {
		return err
	}
	rebuilt := time.Since(start)
	got, err := projection.DigestDatabase(ctx, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Rebuilt the projections in %s and digested them in %s.\n", rebuilt.Round(time.Millisecond),
		(time.Since(start) - rebuilt).Round(time.Millisecond))
	fmt.Fprintf(out, "\nReplayed digest:\n%s", got)
	if o.noCompare {
		return nil
	}
	return compareWithLive(ctx, s.pool, got, out)
}

// rebuild writes the projections the events imply into target, in one
// transaction, and says how many events it read.
func rebuild(ctx context.Context, s *session, o replayOptions, target *pgxpool.Pool, out, errOut io.Writer) error {
	if err := projection.Migrate(ctx, target); err != nil {
		return err
	}
	if o.from == "ledger" {
		return pgdb.InTx(ctx, target, func(tx pgx.Tx) error { return rebuildFromLedger(ctx, s.pool, tx, out, errOut) })
	}
	facts, read, err := streamFacts(ctx, o.nats, errOut)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Replayed %d events from the stream (%d used by the projections).\n", read, len(facts))
	return pgdb.InTx(ctx, target, func(tx pgx.Tx) error { return projection.Write(ctx, tx, projection.Project(facts)) })
}

// verifyBeforeReplay checks the ledger's hash chain before it is replayed:
// a replay of an altered ledger would differ from the live projections for
// a reason the digests cannot name, or worse, match an altered state.
func verifyBeforeReplay(ctx context.Context, s *session, unverified bool, out, errOut io.Writer) error {
	res, err := verifyWithProgress(ctx, s, nil, errOut)
	if err != nil {
		return fmt.Errorf("verifying the ledger before replay: %w", err)
	}
	if res.Problem == nil {
		fmt.Fprintf(out, "The ledger's chain of %d entries verifies.\n", res.Entries)
		return nil
	}
	fmt.Fprintf(out, "The ledger fails verification at entry %d: %s.\n", res.Problem.Seq, res.Problem.Reason)
	if !unverified {
		return fmt.Errorf("%w: first bad entry %d (lantern audit verify shows more; --ignore-verification replays it anyway)", ErrTampered, res.Problem.Seq)
	}
	fmt.Fprintln(out, "Replaying it anyway, as asked: the replay shows what the altered ledger says.")
	return nil
}

// openEmptyTarget connects to the target and refuses it unless it has no
// projection tables yet: a replay into a database that already holds some
// would prove nothing.
func openEmptyTarget(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := pgdb.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("opening the target database: %w", err)
	}
	var tables int
	err = pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, projection.Schema).Scan(&tables)
	if err == nil && tables > 0 {
		err = fmt.Errorf("the target database already has %d tables in schema %q; replay needs an empty database", tables, projection.Schema)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// rebuildFromLedger streams every ledger entry up to the head into tx,
// with a progress bar.
func rebuildFromLedger(ctx context.Context, pool *pgxpool.Pool, tx pgx.Tx, out, errOut io.Writer) error {
	head, err := auditlog.ReadHead(ctx, pool)
	if err != nil {
		return err
	}
	bar := newProgress(errOut, "replaying ledger", head.Seq, clock.System)
	got, err := projection.Rebuild(ctx, pool, tx, head.Seq, bar.set)
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Replayed %d events from the ledger (%d used by the projections).\n", got.Read, got.Used)
	return nil
}

// compareWithLive prints whether the replay reached the live state, and
// which projections differ if not.
func compareWithLive(ctx context.Context, live *pgxpool.Pool, got projection.Digest, out io.Writer) error {
	want, err := liveDigest(ctx, live, out)
	if err != nil {
		return err
	}
	if want.Total == got.Total {
		fmt.Fprintf(out, "\nThe replay matches the live projections (sha256:%s).\n", got.Total)
		return nil
	}
	fmt.Fprintf(out, "\nLive digest:\n%s\nThe replay differs from the live projections in: %s\n", want, strings.Join(got.Differences(want), ", "))
	return ErrDigestMismatch
}

// liveDigest reads the live projection tables, after saying whether the
// ledger service has brought them up to the ledger's head: if it has not,
// a difference may only mean it is behind.
func liveDigest(ctx context.Context, pool *pgxpool.Pool, out io.Writer) (projection.Digest, error) {
	head, err := auditlog.ReadHead(ctx, pool)
	if err != nil {
		return projection.Digest{}, err
	}
	done, err := projection.ProjectedSeq(ctx, pool)
	if err != nil {
		return projection.Digest{}, err
	}
	if done != head.Seq {
		fmt.Fprintf(out, "Warning: the live projections reach ledger entry %d of %d; the ledger service is behind.\n", done, head.Seq)
	}
	return projection.DigestDatabase(ctx, pool)
}

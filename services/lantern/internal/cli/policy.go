package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"context"
	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/router/simulate"
)

func newPolicyCommand() *cobra.Command {
	cmd := command.NewGroup("policy", "try a routing policy on the partnership's own history before it is used",
		newSimulateCommand())
	addReaderFlags(cmd, "policy simulation")
	return cmd
}

type simulateOptions struct {
	policy, baseline, reference, from, to, outPath string
}

func newSimulateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate --policy FILE --from YYYY-MM-DD --to YYYY-MM-DD",
		Short: "route the period's incidents again under a proposed policy, send nothing, and report the difference",
		Long: `Routes every incident Lantern received in the period again, from the ledger, under the proposed
policy and under the baseline (the policy in force), without sending or recording anything, and
reports notices added and removed per rule, recipient kind and organisation, deadlines moved, and each
organisation's weekly load before and after. The MASH's triage decisions are taken as they were made.`,
		Args: command.Args(),
	}
	var o simulateOptions
	cmd.Flags().StringVar(&o.policy, "policy", "", "the proposed policy file (required)")
	cmd.Flags().StringVar(&o.baseline, "baseline", "", "the policy to compare with (default $LANTERN_POLICY_FILE, else policy/default.yaml)")
	cmd.Flags().StringVar(&o.reference, "reference-dir", "", "reference data folder (default $LANTERN_REFERENCE_DIR, else reference)")
	cmd.Flags().StringVar(&o.from, "from", "", "first day the incidents were received, YYYY-MM-DD (Europe/London; required)")
	cmd.Flags().StringVar(&o.to, "to", "", "last day, YYYY-MM-DD, inclusive (required)")
	format := command.ChoiceFlag(cmd, "format", "output format", "text", "json", "html")
	cmd.Flags().StringVar(&o.outPath, "out", "", "write to this file instead of standard output")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		opts, err := o.parse()
		if err != nil {
			return err
		}
		return readLive(cmd, "policy_simulate", opts.From.String()+".."+opts.To.String(), func(ctx context.Context, s *session) error {
			rep, err := simulate.Simulate(ctx, s.pool, opts)
			if err != nil {
				return err
			}
			return writeTo(o.outPath, cmd.OutOrStdout(), func(w io.Writer) error { return writeSimulation(w, format.String(), rep) })
		})
	}
	return cmd
}

func (o simulateOptions) parse() (simulate.Options, error) {
	if o.policy == "" || o.from == "" || o.to == "" {
		return simulate.Options{}, command.Usagef("needs the proposed policy and the days: type lantern policy simulate --policy my-policy.yaml --from 2026-11-01 --to 2026-11-30")
	}
	from, to, err := parseDays(o.from, o.to)
	if err != nil {
		return simulate.Options{}, err
	}
	baseline := o.baseline
	if baseline == "" {
		baseline = envOrDefault("LANTERN_POLICY_FILE", "policy/default.yaml")
	}
	refDir := o.reference
	if refDir == "" {
		refDir = envOrDefault("LANTERN_REFERENCE_DIR", "reference")
	}
	ref, err := refdata.Load(refDir)
	if err != nil {
		return simulate.Options{}, fmt.Errorf("loading the reference data from %s: %w", refDir, err)
	}
	return simulate.Options{BaselineFile: baseline, ProposedFile: o.policy, Reference: ref, From: from, To: to}, nil
}

func writeSimulation(w io.Writer, format string, rep simulate.Report) error {
	switch format {
	case "json":
		return simulate.WriteJSON(w, rep)
	case "html":
		return simulate.WriteHTML(w, rep)
	}
	return simulate.WriteText(w, rep)
}

// parseDays reads the --from and --to days of a period, refusing a period
// that ends before it starts.
func parseDays(fromFlag, toFlag string) (from, to calendar.Date, err error) {
	from, errFrom := calendar.ParseDate(fromFlag)
	to, errTo := calendar.ParseDate(toFlag)
	if err := errors.Join(errFrom, errTo); err != nil {
		return from, to, command.UsageError{Err: fmt.Errorf("--from and --to are days as YYYY-MM-DD: %w", err)}
	}
	if to.Before(from) {
		return from, to, command.Usagef("--to %s is before --from %s", to, from)
	}
	return from, to, nil
}

// writeTo writes with write to the file at path, or to out when path is
// empty.
func writeTo(path string, out io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(out)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer f.Close()
	if err := write(f); err != nil {
		return err
	}
	return f.Close()
}

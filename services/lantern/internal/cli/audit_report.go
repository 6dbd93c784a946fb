package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"context"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

type reportOptions struct {
	from, to, outPath, asOf string
}

func newReportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report --from YYYY-MM-DD --to YYYY-MM-DD",
		Short: "the JTAI timeliness report by month, rule and recipient",
		Args:  command.Args(),
	}
	var o reportOptions
	cmd.Flags().StringVar(&o.from, "from", "", "first day, YYYY-MM-DD (Europe/London; required)")
	cmd.Flags().StringVar(&o.to, "to", "", "last day, YYYY-MM-DD, inclusive (required)")
	format := command.ChoiceFlag(cmd, "format", "output format", "html", "csv", "json")
	cmd.Flags().StringVar(&o.outPath, "out", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&o.asOf, "as-of", "", "judge open deadlines as at this RFC 3339 time (default now)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		opts, err := o.parse()
		if err != nil {
			return err
		}
		return readLive(cmd, "report", opts.From.String()+".."+opts.To.String(), func(ctx context.Context, s *session) error {
			rep, err := timeliness.Load(ctx, s.pool, opts)
			if err != nil {
				return err
			}
			return writeTo(o.outPath, cmd.OutOrStdout(), func(w io.Writer) error { return writeReport(w, format.String(), rep) })
		})
	}
	return cmd
}

func (o reportOptions) parse() (timeliness.Options, error) {
	if o.from == "" || o.to == "" {
		return timeliness.Options{}, command.Usagef("needs the days it covers: type lantern audit report --from 2026-11-01 --to 2026-11-30")
	}
	from, to, err := parseDays(o.from, o.to)
	if err != nil {
		return timeliness.Options{}, err
	}
	asOf := time.Now()
	if o.asOf != "" {
		t, err := time.Parse(time.RFC3339, o.asOf)
		if err != nil {
			return timeliness.Options{}, command.Usagef("--as-of %q is not an RFC 3339 time, such as 2026-12-01T09:00:00Z", o.asOf)
		}
		asOf = t
	}
	return timeliness.Options{From: from, To: to, AsOf: asOf}, nil
}

// writeReport renders rep in format.
func writeReport(w io.Writer, format string, rep timeliness.Report) error {
	switch format {
	case "csv":
		return timeliness.WriteCSV(w, rep)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return timeliness.WriteHTML(w, rep)
}

func newDigestCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "the digest of the live projections",
		Args:  command.Args(),
	}
	format := command.ChoiceFlag(cmd, "format", "output format", "text", "json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		out := cmd.OutOrStdout()
		return readLive(cmd, "digest", "projections", func(ctx context.Context, s *session) error {
			d, err := liveDigest(ctx, s.pool, out)
			if err != nil {
				return err
			}
			if format.String() == "json" {
				return json.NewEncoder(out).Encode(d)
			}
			fmt.Fprint(out, d)
			return nil
		})
	}
	return cmd
}

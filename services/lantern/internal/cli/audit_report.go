package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/timeliness"
)

type reportOptions struct {
	from, to, format, outPath, asOf string
}

func auditReport(ctx context.Context, args []string, out, _ io.Writer) error {
	fs := flag.NewFlagSet("audit report", flag.ContinueOnError)
	var o reportOptions
	fs.StringVar(&o.from, "from", "", "first day, YYYY-MM-DD (Europe/London)")
	fs.StringVar(&o.to, "to", "", "last day, YYYY-MM-DD, inclusive")
	fs.StringVar(&o.format, "format", "html", "html, csv or json")
	fs.StringVar(&o.outPath, "out", "", "write to this file instead of standard output")
	fs.StringVar(&o.asOf, "as-of", "", "judge open deadlines as at this RFC 3339 time (default now)")
	who := addReaderFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	opts, err := o.parse(len(pos))
	if err != nil {
		return err
	}
	s, err := openLive(ctx, who)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.record(ctx, "report", opts.From.String()+".."+opts.To.String()); err != nil {
		return err
	}
	rep, err := timeliness.Load(ctx, s.pool, opts)
	if err != nil {
		return err
	}
	return o.write(rep, out)
}

func (o reportOptions) parse(extra int) (timeliness.Options, error) {
	usage := errors.New("usage: lantern audit report --from YYYY-MM-DD --to YYYY-MM-DD --format html|csv|json [--out FILE] [--as-of TIME]")
	if extra != 0 || (o.format != "html" && o.format != "csv" && o.format != "json") {
		return timeliness.Options{}, usage
	}
	from, errFrom := calendar.ParseDate(o.from)
	to, errTo := calendar.ParseDate(o.to)
	if err := errors.Join(errFrom, errTo); err != nil {
		return timeliness.Options{}, fmt.Errorf("%w\n%w", err, usage)
	}
	if to.Before(from) {
		return timeliness.Options{}, fmt.Errorf("--to %s is before --from %s", to, from)
	}
	asOf := time.Now()
	if o.asOf != "" {
		t, err := time.Parse(time.RFC3339, o.asOf)
		if err != nil {
			return timeliness.Options{}, fmt.Errorf("--as-of %q is not an RFC 3339 time", o.asOf)
		}
		asOf = t
	}
	return timeliness.Options{From: from, To: to, AsOf: asOf}, nil
}

func (o reportOptions) write(rep timeliness.Report, out io.Writer) error {
	if o.outPath != "" {
		f, err := os.Create(o.outPath)
		if err != nil {
			return fmt.Errorf("creating %s: %w", o.outPath, err)
		}
		defer f.Close()
		if err := writeReport(f, o.format, rep); err != nil {
			return err
		}
		return f.Close()
	}
	return writeReport(out, o.format, rep)
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

func auditDigest(ctx context.Context, args []string, out, _ io.Writer) error {
	fs := flag.NewFlagSet("audit digest", flag.ContinueOnError)
	format := fs.String("format", "text", "text or json")
	who := addReaderFlags(fs)
	if pos, err := parseFlags(fs, args); err != nil || len(pos) != 0 {
		return errors.Join(err, errors.New("usage: lantern audit digest [--format text|json]"))
	}
	s, err := openLive(ctx, who)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.record(ctx, "digest", "projections"); err != nil {
		return err
	}
	d, err := liveDigest(ctx, s.pool, out)
	if err != nil {
		return err
	}
	if *format == "json" {
		return json.NewEncoder(out).Encode(d)
	}
	fmt.Fprint(out, d)
	return nil
}

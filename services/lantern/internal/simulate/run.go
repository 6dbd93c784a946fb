package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
)

// options are the command line of `lantern simulate`.
type options struct {
	url          string
	token        string
	credentials  string
	referenceDir string
	rate         float64
	burst        int
	count        int
	duration     time.Duration
	concurrency  int
	seed         uint64
	force        string
	runTag       string
	startTime    string
	perDay       float64
	window       time.Duration
	print        bool
	mix          Mix
	dash         string
}

// NewCommand is `lantern simulate`: it posts notices as the command line
// asks, reports progress on stderr, and writes a summary to stdout. It
// fails if any notice was not accepted.
func NewCommand() *cobra.Command {
	o := &options{mix: DefaultMix()}
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "post a police feed of realistic synthetic notices, at a steady rate or as a burst",
		Long: `Post synthetic police notices (PPNs) to Lantern.

Every person is synthetic: invented surnames, NHS numbers in the 999 test range, telephone numbers
in the range kept for drama.`,
		Example: `  lantern simulate --rate 50 --duration 1m          a steady feed of live incidents
  lantern simulate --burst 10000                    a Monday-morning backlog, all at once
  lantern simulate --start-time 2025-11-01T00:00:00Z --per-day 100 --count 36500 --rate 500
                                                    a year of history, posted at 500 a second`,
		Args: command.Args(),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.finish(); err != nil {
				return command.UsageError{Err: err}
			}
			return o.run(c.Context(), c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	o.register(cmd.Flags())
	return cmd
}

func (o *options) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.url, "url", "http://"+envOr("LANTERN_HTTP_ADDR", "127.0.0.1:8080"), "Lantern's base address")
	fs.StringVar(&o.token, "token", "", "police intake bearer token (default: read from --credentials)")
	fs.StringVar(&o.credentials, "credentials", ".lantern/dev-credentials.json", "file holding police_intake_token, as make run writes it")
	fs.StringVar(&o.referenceDir, "reference-dir", envOr("LANTERN_REFERENCE_DIR", "reference"), "reference data folder to draw local authorities, schools and GP practices from")
	fs.Float64Var(&o.rate, "rate", 10, "notices per second")
	fs.IntVar(&o.burst, "burst", 0, "send this many notices at once, about incidents over the weekend just gone (a Monday-morning backlog)")
	fs.IntVar(&o.count, "count", 0, "stop after this many notices (0: no limit)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: no limit)")
	fs.IntVar(&o.concurrency, "concurrency", 32, "requests in flight at most")
	fs.Uint64Var(&o.seed, "seed", 1, "seed: the same seed and --run-tag give the same notices")
	fs.StringVar(&o.force, "force", "SIM", "force_code of every notice")
	fs.StringVar(&o.runTag, "run-tag", strconv.FormatInt(time.Now().Unix(), 36), "tag in every police reference, so that runs do not collide")
	fs.StringVar(&o.startTime, "start-time", "", "RFC 3339 time of the first incident: simulate history from then on, --per-day a day")
	fs.Float64Var(&o.perDay, "per-day", 100, "incidents on an ordinary day of simulated history (more at weekends and holidays)")
	fs.DurationVar(&o.window, "window", WeekendWindow, "how far back a --burst's incidents reach")
	fs.BoolVar(&o.print, "print", false, "write the notices to stdout, one JSON document a line, instead of posting them")
	fs.Float64Var(&o.mix.ChildShare, "child-share", o.mix.ChildShare, "share of incidents with children")
	fs.Float64Var(&o.mix.PregnantShare, "pregnant-share", o.mix.PregnantShare, "share of incidents with a pregnant victim")
	fs.Float64Var(&o.mix.ProbationShare, "probation-share", o.mix.ProbationShare, "share of perpetrators on probation")
	fs.Float64Var(&o.mix.RepeatShare, "repeat-share", o.mix.RepeatShare, "share of incidents about a family seen earlier in the feed")
	fs.StringVar(&o.dash, "dash", "", "DASH level shares, e.g. standard=0.55,medium=0.3,high=0.1,not_completed=0.05")
}

func (o *options) finish() error {
	var errs []error
	if o.dash != "" {
		d, err := parseDASH(o.dash)
		errs = append(errs, err)
		o.mix.DASH = d
	}
	if o.burst < 0 || o.count < 0 || o.rate < 0 || o.concurrency < 1 || o.perDay <= 0 {
		errs = append(errs, errors.New("--burst, --count and --rate must not be negative, --concurrency and --per-day must be positive"))
	}
	if o.print && o.count == 0 && o.burst == 0 {
		errs = append(errs, errors.New("--print needs --count or --burst"))
	}
	return errors.Join(errs...)
}

func (o *options) run(ctx context.Context, stdout, stderr io.Writer) error {
	gen, err := o.generator(clock.System)
	if err != nil {
		return err
	}
	if o.print {
		return printFeed(gen, o.plan().Count, stdout)
	}
	token, err := o.policeToken()
	if err != nil {
		return err
	}
	sender := NewSender(o.url, token, o.concurrency)
	stats, err := Drive(ctx, o.plan(), notBeyond(gen, clock.System), sender.Send, stderr)
	stats.WriteSummary(stdout)
	if err != nil {
		return err
	}
	if failed := stats.Failed(); failed > 0 {
		return fmt.Errorf("%d of %d notices were not accepted", failed, stats.Sent())
	}
	return nil
}

func (o *options) plan() Plan {
	if o.burst > 0 {
		return Plan{Count: o.burst, Duration: o.duration, Concurrency: o.concurrency}
	}
	return Plan{Rate: o.rate, Count: o.count, Duration: o.duration, Concurrency: o.concurrency}
}

func (o *options) generator(c clock.Clock) (*Generator, error) {
	ref, err := refdata.Load(o.referenceDir)
	if err != nil {
		return nil, fmt.Errorf("loading reference data: %w", err)
	}
	times, err := o.times(c, Season{Holidays: ref.Holidays()})
	if err != nil {
		return nil, err
	}
	return New(Config{Seed: o.seed, Mix: o.mix, Reference: ref, Force: o.force, RunTag: o.runTag, Times: times})
}

func (o *options) times(c clock.Clock, season Season) (Times, error) {
	var start time.Time
	if o.startTime != "" {
		t, err := time.Parse(time.RFC3339, o.startTime)
		if err != nil {
			return nil, fmt.Errorf("--start-time: %w", err)
		}
		start = t
	}
	switch {
	case o.burst > 0:
		end := c.Now()
		if !start.IsZero() {
			end = start
		}
		return &Burst{End: end, Window: o.window, Count: o.burst, Season: season}, nil
	case !start.IsZero():
		return &History{Start: start, PerDay: o.perDay, Season: season}, nil
	}
	return Live{Clock: c}, nil
}

// notBeyond ends a feed whose simulated history has caught up with the
// present, since the intake refuses incidents in the future.
func notBeyond(gen *Generator, c clock.Clock) func() (Notice, error) {
	return func() (Notice, error) {
		n := gen.Next()
		if n.Incident.ReportedAt.After(c.Now()) {
			return Notice{}, fmt.Errorf("the simulated history reached the present at %s; start earlier or send fewer",
				n.Incident.OccurredAt.Format(time.RFC3339))
		}
		return n, nil
	}
}

func printFeed(gen *Generator, count int, w io.Writer) error {
	for range count {
		body, err := gen.Next().Body()
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", body); err != nil {
			return fmt.Errorf("writing notices: %w", err)
		}
	}
	return nil
}

func (o *options) policeToken() (string, error) {
	if o.token != "" {
		return o.token, nil
	}
	data, err := os.ReadFile(o.credentials)
	if err != nil {
		return "", fmt.Errorf("no police token: pass --token, or run make run to write %s: %w", o.credentials, err)
	}
	var creds struct {
		Token string `json:"police_intake_token"`
	}
	if err := json.Unmarshal(data, &creds); err != nil || creds.Token == "" {
		return "", fmt.Errorf("reading police_intake_token from %s: the file is not the credentials make run writes", o.credentials)
	}
	return creds.Token, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Package dlq is `lantern dlq`: it lists the messages Lantern's consumers
// gave up on, with the reason each was given up, and puts them back on
// their original subjects once the cause is fixed.
//
// Dead letters are never deleted (the stream refuses deletes); a redriven
// one is marked, hidden from the default listing, and refused a second
// redrive.
package dlq

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
)

// Run executes `lantern dlq list|redrive ...`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("dlq needs a command: list or redrive")
	}
	switch args[0] {
	case "list":
		return list(ctx, args[1:], stdout, stderr)
	case "redrive":
		return redrive(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown dlq command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, `lantern dlq: messages Lantern's consumers gave up on.

  lantern dlq list [--consumer NAME] [--all] [--format text|json]
      every open dead letter: its sequence, consumer, original subject, event, reason, deliveries and time;
      --all includes those already redriven
  lantern dlq redrive [--consumer NAME] (--seq N | --all)
      put dead letters back on their original subjects, once the cause is fixed

NATS is NATS_URL, or --nats-url (make run prints the address of the one it embeds).
`)
}

// common are the flags of every dlq command.
type common struct {
	natsURL  string
	consumer string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.natsURL, "nats-url", os.Getenv("NATS_URL"), "NATS server (default NATS_URL)")
	fs.StringVar(&c.consumer, "consumer", "", "only dead letters of this consumer")
}

func (c *common) connect() (jetstream.JetStream, func(), error) {
	if c.natsURL == "" {
		return nil, nil, errors.New("no NATS server: set NATS_URL or pass --nats-url")
	}
	nc, err := nats.Connect(c.natsURL, nats.Name("lantern-dlq"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to NATS at %s: %w", c.natsURL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("opening JetStream: %w", err)
	}
	return js, nc.Close, nil
}

// letters returns the dead letters of the consumer asked for, redriven ones
// only if asked.
func (c *common) letters(ctx context.Context, js jetstream.JetStream, withRedriven bool) ([]bus.StoredDeadLetter, error) {
	all, err := bus.DeadLetters(ctx, js)
	if err != nil {
		return nil, err
	}
	var out []bus.StoredDeadLetter
	for _, d := range all {
		if (c.consumer == "" || d.Consumer == c.consumer) && (withRedriven || !d.Redriven()) {
			out = append(out, d)
		}
	}
	return out, nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("dlq "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func list(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("list", stderr)
	c.register(fs)
	all := fs.Bool("all", false, "include dead letters already redriven")
	format := fs.String("format", "text", "text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format must be text or json, not %q", *format)
	}
	js, closeConn, err := c.connect()
	if err != nil {
		return err
	}
	defer closeConn()
	letters, err := c.letters(ctx, js, *all)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(stdout, letters)
	}
	return writeText(stdout, letters, *all)
}

// entry is a dead letter as `dlq list --format json` writes it.
type entry struct {
	Seq            uint64     `json:"seq"`
	Consumer       string     `json:"consumer"`
	Subject        string     `json:"subject"`
	StreamSeq      uint64     `json:"stream_seq"`
	EventID        string     `json:"event_id,omitempty"`
	EventType      string     `json:"event_type,omitempty"`
	Reason         string     `json:"reason"`
	Deliveries     uint64     `json:"deliveries"`
	DeadLetteredAt time.Time  `json:"dead_lettered_at"`
	RedrivenAt     *time.Time `json:"redriven_at,omitempty"`
}

func writeJSON(w io.Writer, letters []bus.StoredDeadLetter) error {
	entries := make([]entry, 0, len(letters))
	for _, d := range letters {
		e := entry{Seq: d.Seq, Consumer: d.Consumer, Subject: d.Subject, StreamSeq: d.OriginalSeq, EventID: d.EventID,
			EventType: d.EventType, Reason: d.Reason, Deliveries: d.Deliveries, DeadLetteredAt: d.DeadLetteredAt.UTC()}
		if d.Redriven() {
			at := d.RedrivenAt.UTC()
			e.RedrivenAt = &at
		}
		entries = append(entries, e)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(entries)
}

func writeText(w io.Writer, letters []bus.StoredDeadLetter, withRedriven bool) error {
	if len(letters) == 0 {
		_, err := fmt.Fprintln(w, "no dead letters")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "SEQ\tCONSUMER\tSUBJECT\tEVENT\tTYPE\tDELIVERIES\tDEAD-LETTERED\tREASON"
	if withRedriven {
		header += "\tREDRIVEN"
	}
	fmt.Fprintln(tw, header)
	for _, d := range letters {
		line := fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s", d.Seq, d.Consumer, d.Subject, orDash(d.EventID),
			orDash(shortType(d.EventType)), d.Deliveries, d.DeadLetteredAt.UTC().Format(time.RFC3339), oneLine(d.Reason))
		if withRedriven {
			line += "\t" + redrivenText(d)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func shortType(t string) string {
	return strings.TrimSuffix(strings.TrimPrefix(t, "org.lantern."), ".v1")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a reason on its row whatever it holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func redrivenText(d bus.StoredDeadLetter) string {
	if !d.Redriven() {
		return "-"
	}
	return d.RedrivenAt.UTC().Format(time.RFC3339)
}

func redrive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("redrive", stderr)
	c.register(fs)
	seq := fs.Uint64("seq", 0, "the dead letter to put back (its SEQ in dlq list)")
	all := fs.Bool("all", false, "put back every open dead letter (of --consumer, if given)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*seq == 0) == !*all {
		return errors.New("redrive needs exactly one of --seq N or --all")
	}
	js, closeConn, err := c.connect()
	if err != nil {
		return err
	}
	defer closeConn()
	open, err := c.letters(ctx, js, false)
	if err != nil {
		return err
	}
	targets, err := chooseTargets(open, *seq, c.consumer)
	if err != nil {
		return err
	}
	return redriveAll(ctx, js, targets, stdout)
}

// chooseTargets picks the dead letter asked for by seq, or every open one
// when seq is 0.
func chooseTargets(open []bus.StoredDeadLetter, seq uint64, consumer string) ([]bus.StoredDeadLetter, error) {
	if seq == 0 {
		return open, nil
	}
	for _, d := range open {
		if d.Seq == seq {
			return []bus.StoredDeadLetter{d}, nil
		}
	}
	if consumer != "" {
		return nil, fmt.Errorf("no open dead letter %d of consumer %s (lantern dlq list --all shows every one)", seq, consumer)
	}
	return nil, fmt.Errorf("no open dead letter %d (lantern dlq list --all shows every one)", seq)
}

func redriveAll(ctx context.Context, js jetstream.JetStream, targets []bus.StoredDeadLetter, w io.Writer) error {
	if len(targets) == 0 {
		_, err := fmt.Fprintln(w, "no open dead letters to redrive")
		return err
	}
	var errs []error
	for _, d := range targets {
		ack, err := bus.Redrive(ctx, js, d.Seq)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(w, "redrove dead letter %d (%s, event %s) to %s as events stream message %d\n",
			d.Seq, d.Consumer, orDash(d.EventID), d.Subject, ack.Sequence)
	}
	return errors.Join(errs...)
}

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
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
)

// NewCommand is `lantern dlq list|redrive`.
func NewCommand() *cobra.Command {
	cmd := command.NewGroup("dlq", "messages Lantern's consumers gave up on, with the reason; redrive puts them back",
		newListCommand(), newRedriveCommand())
	localenv.AddNATSFlag(cmd.PersistentFlags())
	cmd.PersistentFlags().String("consumer", "", "only dead letters of this consumer")
	return cmd
}

// common are the flags of every dlq command.
type common struct {
	nats     localenv.Setting
	consumer string
}

func commonOf(cmd *cobra.Command) (common, error) {
	var c common
	var err error
	if c.consumer, err = cmd.Flags().GetString("consumer"); err != nil {
		return c, err
	}
	c.nats, err = localenv.NATSURL(cmd)
	return c, err
}

// withLetters connects to the broker the command's flags name and runs fn
// with the dead letters of the consumer asked for, those already redriven
// too when withRedriven is set.
func withLetters(cmd *cobra.Command, withRedriven bool, fn func(c common, js jetstream.JetStream, letters []bus.StoredDeadLetter) error) error {
	c, err := commonOf(cmd)
	if err != nil {
		return err
	}
	nc, js, err := localenv.ConnectJetStream(c.nats, natsauth.Provisioner, "lantern-dlq")
	if err != nil {
		return err
	}
	defer nc.Close()
	letters, err := c.letters(cmd.Context(), js, withRedriven)
	if err != nil {
		return err
	}
	return fn(c, js, letters)
}

func (c *common) letters(ctx context.Context, js jetstream.JetStream, withRedriven bool) ([]bus.StoredDeadLetter, error) {
	all, err := bus.DeadLetters(ctx, js)
	if err != nil {
		return nil, localenv.StreamMissing(err, bus.DeadLetterStream, js.Conn(), c.nats)
	}
	var out []bus.StoredDeadLetter
	for _, d := range all {
		if (c.consumer == "" || d.Consumer == c.consumer) && (withRedriven || !d.Redriven()) {
			out = append(out, d)
		}
	}
	return out, nil
}

func newListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "every open dead letter: its sequence, consumer, original subject, event, reason, deliveries and time",
		Args:  command.Args(),
	}
	all := cmd.Flags().Bool("all", false, "include dead letters already redriven")
	format := command.ChoiceFlag(cmd, "format", "output format", "text", "json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return withLetters(cmd, *all, func(_ common, _ jetstream.JetStream, letters []bus.StoredDeadLetter) error {
			if format.String() == "json" {
				return writeJSON(cmd.OutOrStdout(), letters)
			}
			return writeText(cmd.OutOrStdout(), letters, *all)
		})
	}
	return cmd
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

func newRedriveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "redrive (--seq N | --all)",
		Short: "put dead letters back on their original subjects, once the cause is fixed",
		Args:  command.Args(),
	}
	seq := cmd.Flags().Uint64("seq", 0, "the dead letter to put back (its SEQ in lantern dlq list)")
	all := cmd.Flags().Bool("all", false, "put back every open dead letter (of --consumer, if given)")
	cmd.MarkFlagsMutuallyExclusive("seq", "all")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *seq == 0 && !*all {
			return command.Usagef("needs exactly one of --seq N or --all")
		}
		return withLetters(cmd, false, func(c common, js jetstream.JetStream, open []bus.StoredDeadLetter) error {
			targets, err := chooseTargets(open, *seq, c.consumer)
			if err != nil {
				return err
			}
			return redriveAll(cmd.Context(), js, targets, cmd.OutOrStdout())
		})
	}
	return cmd
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

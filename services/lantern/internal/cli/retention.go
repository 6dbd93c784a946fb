package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	policy "github.com/lantern-safeguarding/lantern/pkg/retention"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/reseal"
	"github.com/lantern-safeguarding/lantern/services/ledger/retention"
)

func newRetentionCommand() *cobra.Command {
	cmd := command.NewGroup("retention", "end personal data on the retention policy's schedule: plan, run (crypto-shred), hold and release",
		newRetentionPlanCommand(), newRetentionRunCommand(), newRetentionHoldCommand(), newRetentionReleaseCommand(), newRetentionResealCommand())
	addReaderFlags(cmd, "retention")
	cmd.PersistentFlags().String("policy", "", "retention policy file (default $LANTERN_RETENTION_FILE, else the built-in default of domain brief 8.5)")
	return cmd
}

// scheduler builds the retention scheduler on the session's database. It
// only destroys keys, so it needs no key-encryption key.
func scheduler(cmd *cobra.Command, s *session) (*retention.Scheduler, error) {
	p, err := retentionPolicy(cmd)
	if err != nil {
		return nil, err
	}
	return &retention.Scheduler{Pool: s.pool, Sealer: sealed.New(s.pool, nil, clock.System), Policy: p, Clock: clock.System}, nil
}

func retentionPolicy(cmd *cobra.Command) (policy.Policy, error) {
	if path, _ := cmd.Flags().GetString("policy"); path != "" {
		return policy.Load(path)
	}
	return policy.FromEnv()
}

func newRetentionPlanCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "plan", Short: "list the incidents whose retention has ended, and which are on hold", Args: command.Args()}
	format := cmd.Flags().String("format", "text", "text or json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *format != "text" && *format != "json" {
			return command.Usagef("--format: want text or json, got %q", *format)
		}
		return readLive(cmd, "retention plan", "", func(ctx context.Context, s *session) error {
			sch, err := scheduler(cmd, s)
			if err != nil {
				return err
			}
			due, err := sch.Plan(ctx)
			if err != nil {
				return err
			}
			return writePlan(cmd.OutOrStdout(), *format, due)
		})
	}
	return cmd
}

func writePlan(w io.Writer, format string, due []retention.Due) error {
	if format == "json" {
		type row struct {
			IncidentID     string    `json:"incident_id"`
			LocalAuthority string    `json:"local_authority"`
			DueAt          time.Time `json:"due_at"`
			Hold           string    `json:"hold,omitempty"`
		}
		rows := make([]row, 0, len(due))
		for _, d := range due {
			rows = append(rows, row{d.IncidentID, d.LocalAuthority, d.DueAt.UTC(), d.Hold})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"due": rows})
	}
	held := 0
	for _, d := range due {
		state := "to shred"
		if d.Hold != "" {
			state, held = "on hold: "+d.Hold, held+1
		}
		fmt.Fprintf(w, "%s\t%s\tdue %s\t%s\n", d.IncidentID, d.LocalAuthority, d.DueAt.UTC().Format(time.RFC3339), state)
	}
	_, err := fmt.Fprintf(w, "%d due, %d on hold, %d to shred\n", len(due), held, len(due)-held)
	return err
}

func newRetentionRunCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "run", Short: "crypto-shred every due incident not on hold, once, recording incident.shredded", Args: command.Args()}
	dry := cmd.Flags().Bool("dry-run", false, "count what would be shredded and shred nothing")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return readLive(cmd, "retention run", "", func(ctx context.Context, s *session) error {
			sch, err := scheduler(cmd, s)
			if err != nil {
				return err
			}
			var bar *progress
			show := func(done, total int) {
				if bar == nil {
					bar = newProgress(cmd.ErrOrStderr(), "shredding", int64(total), clock.System)
				}
				bar.set(int64(done))
			}
			var res retention.Result
			ran := true
			if *dry {
				res, err = sch.Run(ctx, true, show)
			} else {
				// The same lock as the ledger's schedule: one run at a time.
				res, ran, err = sch.Tick(ctx, show)
			}
			if bar != nil {
				bar.finish()
			}
			if err != nil {
				return err
			}
			if !ran {
				return errors.New("another retention run is under way (a ledger replica's schedule, or another lantern retention run); try again once it ends")
			}
			verb, n := "shredded", res.Shredded
			if *dry {
				verb, n = "would shred", res.Due-res.Held
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%d due, %d on hold, %s %d\n", res.Due, res.Held, verb, n)
			return err
		})
	}
	return cmd
}

func newRetentionHoldCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "hold <incident_id>", Short: "keep an incident's personal data past its retention (a MASH manager or an auditor, with a reason)",
		Args: command.Args("incident_id")}
	role := cmd.Flags().String("role", "auditor", "the role you act in: auditor or mash_manager")
	reason := cmd.Flags().String("reason", "", "why the incident is held (required; recorded)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if *reason == "" {
			return command.Usagef("--reason is required: a hold is recorded with its reason")
		}
		return readLive(cmd, "retention hold", args[0], func(ctx context.Context, s *session) error {
			if err := retention.Hold(ctx, s.pool, args[0], s.actor, *role, *reason, clock.System.Now()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s held by %s (%s): %s\n", args[0], s.actor, *role, *reason)
			return err
		})
	}
	return cmd
}

func newRetentionReleaseCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "release <incident_id>", Short: "end an incident's legal hold (the record of the hold stays)", Args: command.Args("incident_id")}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return readLive(cmd, "retention release", args[0], func(ctx context.Context, s *session) error {
			if err := retention.Release(ctx, s.pool, args[0], s.actor, clock.System.Now()); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s released by %s\n", args[0], s.actor)
			return err
		})
	}
	return cmd
}

func newRetentionResealCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reseal",
		Short: "seal the personal data a deployment stored before sealing was switched on; safe to repeat",
		Long: `reseal seals every personal value still in plaintext in intake's notices, the router's cases,
delivery's inbox, the workspace's notices and outboxes, and replaces the workspace's plaintext people
index by its keyed hashes (LANTERN_MATCH_KEY). It needs LANTERN_KEK and the owner's DATABASE_URL, runs
while the services serve, in small transactions, and a second run changes nothing. The ledger's entries
are counted, not rewritten: its chain covers their bytes.`,
		Args: command.Args(),
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return readLive(cmd, "retention reseal", "", func(ctx context.Context, s *session) error {
			sealer, err := s.sealer(ctx)
			if err != nil {
				return err
			}
			var bar *progress
			current := ""
			show := func(table string, done, total int64) {
				if table != current {
					if bar != nil {
						bar.finish()
					}
					bar, current = newProgress(cmd.ErrOrStderr(), table, total, clock.System), table
				}
				bar.set(done)
			}
			tables, err := reseal.Run(ctx, s.pool, reseal.Options{Sealer: sealer,
				MatchKey: []byte(os.Getenv("LANTERN_MATCH_KEY")), Progress: show})
			if bar != nil {
				bar.finish()
			}
			out := cmd.OutOrStdout()
			for _, t := range tables {
				if t.Skipped != "" {
					fmt.Fprintf(out, "%s\tskipped: %s\n", t.Name, t.Skipped)
					continue
				}
				fmt.Fprintf(out, "%s\t%d rows, %d resealed\n", t.Name, t.Rows, t.Changed)
			}
			if err != nil {
				return err
			}
			plain, err := reseal.Plain(ctx, s.pool, nil)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "ledger.entries\t%d entries hold plaintext personal data; the chain covers them, so they are kept as written\n", plain)
			return err
		})
	}
	return cmd
}

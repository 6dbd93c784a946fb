package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"context"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

func newTimelineCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "timeline <incident_id>",
		Short: "every step of an incident and of each child, with deadlines and whether each was met",
		Args:  command.Args("<incident_id>"),
	}
	format := command.ChoiceFlag(cmd, "format", "output format", "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		out := cmd.OutOrStdout()
		return readLive(cmd, "timeline", args[0], func(ctx context.Context, s *session) error {
			tl, err := projection.IncidentTimeline(ctx, s.pool, args[0])
			if errors.Is(err, auditlog.ErrNotFound) {
				return fmt.Errorf("no ledger entries for incident %s", args[0])
			}
			if err != nil {
				return err
			}
			if format.String() == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(tl)
			}
			return writeTimelineText(out, tl)
		})
	}
	return cmd
}

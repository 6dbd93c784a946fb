package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
)

func newKeysCommand() *cobra.Command {
	cmd := command.NewGroup("keys", "the incidents' data keys: how many each key-encryption key wraps, and rewrapping them after a rotation",
		newKeysStatusCommand(), newKeysRewrapCommand())
	addReaderFlags(cmd, "key rotation")
	return cmd
}

func newKeysStatusCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "status", Short: "count the data keys each key-encryption key wraps", Args: command.Args()}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return readLive(cmd, "keys status", "", func(ctx context.Context, s *session) error {
			counts, err := sealed.New(s.pool, nil, clock.System).Counts(ctx)
			if err != nil {
				return err
			}
			ids := make([]string, 0, len(counts))
			for id := range counts {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%d\n", id, counts[id])
			}
			return nil
		})
	}
	return cmd
}

func newKeysRewrapCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rewrap",
		Short: "rewrap every data key under LANTERN_KEK, unwrapping with LANTERN_KEK_PREVIOUS; the services keep running",
		Long: `rewrap finishes a rotation of the key-encryption key. Give every service the new KEK as LANTERN_KEK
and the old one in LANTERN_KEK_PREVIOUS, restart them one at a time, run this with the same two
settings, check with "lantern keys status" that the old KEK wraps nothing, then remove it from the
services and destroy it. Keys move in small transactions, so sealing and opening go on throughout.`,
		Args: command.Args(),
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return readLive(cmd, "keys rewrap", "", func(ctx context.Context, s *session) error {
			sealer, err := s.sealer(ctx)
			if err != nil {
				return err
			}
			n, err := sealer.Rewrap(ctx, func(done int) {
				fmt.Fprintf(cmd.ErrOrStderr(), "\rrewrapped %d", done)
			})
			if n > 0 {
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%d data keys rewrapped under %s\n", n, sealer.Keyring().Current().ID())
			return err
		})
	}
	return cmd
}

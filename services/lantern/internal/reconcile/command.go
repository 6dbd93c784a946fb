package reconcile

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
)

// NewCommand is `lantern reconcile`.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "find published events a consumer never applied (a damaged stream lost them) and publish them again from the outboxes",
		Args:  command.Args(),
	}
	localenv.AddDatabaseFlag(cmd.Flags())
	localenv.AddNATSFlag(cmd.Flags())
	since := cmd.Flags().Duration("since", 7*24*time.Hour, "look at events published this long ago at most")
	grace := cmd.Flags().Duration("grace", 5*time.Minute, "leave events published this recently alone: they may still be on their way")
	dryRun := cmd.Flags().Bool("dry-run", false, "list the gaps, requeue nothing")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, out := cmd.Context(), cmd.OutOrStdout()
		db, err := localenv.DatabaseURL(cmd)
		if err != nil {
			return err
		}
		natsURL, err := localenv.NATSURL(cmd)
		if err != nil {
			return err
		}
		pool, err := localenv.OpenDatabase(ctx, db)
		if err != nil {
			return err
		}
		defer pool.Close()
		nc, js, err := localenv.ConnectJetStream(natsURL, natsauth.Provisioner, "lantern-reconcile")
		if err != nil {
			return err
		}
		defer nc.Close()
		r := Reconciler{Pool: pool, JS: js}
		if os.Getenv(sealed.EnvKEK) != "" {
			ring, err := sealed.KeyringFromEnv(ctx, "")
			if err != nil {
				return err
			}
			r.Sealer = sealed.New(pool, ring, clock.System)
		}
		gaps, err := r.Find(ctx, *since, *grace)
		if err != nil {
			return err
		}
		for _, g := range gaps {
			fmt.Fprintf(out, "%s\t%s\tnot applied by %s\t(%s outbox)\n", g.EventID, g.Subject, g.Consumer, g.Outbox)
		}
		if *dryRun {
			fmt.Fprintf(out, "%d gaps; nothing requeued (dry run)\n", len(gaps))
			return nil
		}
		n, err := r.Requeue(ctx, gaps)
		fmt.Fprintf(out, "%d gaps; %d events requeued for publishing\n", len(gaps), n)
		return err
	}
	return cmd
}

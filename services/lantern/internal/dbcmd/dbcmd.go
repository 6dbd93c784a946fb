// Package dbcmd is `lantern db`: the PostgreSQL roles each service
// connects as, printed for an administrator to install on a server of
// their own (with DATABASE_URL set, make run does not set roles up).
package dbcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/dbroles"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
)

// NewCommand is `lantern db`.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "the database roles: print the SQL that gives each service its own role",
		Long: `lantern db: the PostgreSQL roles.

Every service connects as its own role (DATABASE_URL), which may read and write the rows of its
own schemas only, plus the few reads a boundary needs; migrations run as an owner role
(DATABASE_OWNER_URL). make run sets this up on the PostgreSQL it starts.`,
	}
	return command.Group(cmd, newGrantsCommand())
}

func newGrantsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "grants",
		Short: "print the SQL that creates the roles and grants, for psql as a superuser",
		Long: `Prints an idempotent psql script: the owner role <prefix>_owner, a role <prefix>_<service>
for every service with a database, the schemas owned by the owner, and each service's grants.
Run it as a superuser in Lantern's database, again after upgrading Lantern, then give every
role a password. deploy/postgres/roles.sql is this script for the default prefix and a
database called lantern.`,
		Args: command.Args(),
	}
	database := cmd.Flags().String("database", "lantern", "the database Lantern's schemas live in")
	prefix := cmd.Flags().String("prefix", dbroles.DefaultPrefix, "the roles' names start with this and _")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		stmts, err := dbroles.Roles{Prefix: *prefix}.Setup(*database)
		if err != nil {
			return command.UsageError{Err: fmt.Errorf("--prefix: %w", err)}
		}
		_, err = fmt.Fprint(cmd.OutOrStdout(), dbroles.Script(*database, stmts))
		return err
	}
	return cmd
}

package cli

import (
	"context"
	"os"
	"os/user"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

func newAuditCommand() *cobra.Command {
	cmd := command.NewGroup("audit", "read the audit record: timelines, verification, replay, digests and timeliness reports",
		newTimelineCommand(), newVerifyCommand(), newReplayCommand(), newDigestCommand(), newReportCommand(), newDisclosuresCommand())
	addReaderFlags(cmd, "audit")
	return cmd
}

// addReaderFlags adds to the group cmd the flags of a command that reads
// the live system of record: who reads it and why (the default purpose
// given), recorded with every read, and where the database is.
func addReaderFlags(cmd *cobra.Command, purpose string) {
	flags := cmd.PersistentFlags()
	flags.String("actor", "", "who is reading, recorded with the read (default $LANTERN_ACTOR, else os:<login name>)")
	flags.String("purpose", purpose, "why, recorded with the read")
	localenv.AddDatabaseFlag(flags)
}

func defaultActor() string {
	if a := os.Getenv("LANTERN_ACTOR"); a != "" {
		return a
	}
	if u, err := user.Current(); err == nil {
		return "os:" + u.Username
	}
	return "os:unknown"
}

// session is an open connection to the live database for one command, and
// who is reading it and why: every audit command records its read as a
// consultation (auditlog.Consultation) before it shows anything.
type session struct {
	pool           *pgxpool.Pool
	actor, purpose string
	database       localenv.Setting
}

// openLive connects to the live system of record.
func openLive(ctx context.Context, cmd *cobra.Command) (*session, error) {
	s := &session{}
	var err error
	if s.actor, err = cmd.Flags().GetString("actor"); err != nil {
		return nil, err
	}
	if s.actor == "" {
		s.actor = defaultActor()
	}
	if s.purpose, err = cmd.Flags().GetString("purpose"); err != nil {
		return nil, err
	}
	if s.database, err = localenv.DatabaseURL(cmd); err != nil {
		return nil, err
	}
	if s.pool, err = localenv.OpenDatabase(ctx, s.database); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *session) close() { s.pool.Close() }

// sealer opens and seals personal data on the session's database with the
// keyring of LANTERN_KEK (and LANTERN_KEK_PREVIOUS during a rotation), as
// the services do: a command that reads or rewrites sealed values needs
// the same keys as they.
func (s *session) sealer(ctx context.Context) (*sealed.Sealer, error) {
	ring, err := sealed.KeyringFromEnv(ctx, "")
	if err != nil {
		return nil, err
	}
	return sealed.New(s.pool, ring, clock.System), nil
}

// readLive opens the live system of record for cmd, records the reader's
// consultation (action on subject) and only then runs read.
func readLive(cmd *cobra.Command, action, subject string, read func(ctx context.Context, s *session) error) error {
	ctx := cmd.Context()
	s, err := openLive(ctx, cmd)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.record(ctx, action, subject); err != nil {
		return err
	}
	return read(ctx, s)
}

// record writes the consultation before anything is read out.
func (s *session) record(ctx context.Context, action, subject string) error {
	return auditlog.DBRecorder{DB: s.pool}.RecordConsultation(ctx, auditlog.Consultation{
		At: clock.System.Now(), Actor: s.actor, Action: action, Subject: subject, Purpose: s.purpose})
}

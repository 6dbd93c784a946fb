package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/auditlog"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// auditCommands are the `lantern audit` subcommands.
var auditCommands = map[string]func(ctx context.Context, args []string, out, errOut io.Writer) error{
	"timeline": auditTimeline,
	"verify":   auditVerify,
	"replay":   auditReplay,
	"digest":   auditDigest,
	"report":   auditReport,
}

func audit(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 {
		return errors.New("audit needs a subcommand: timeline, verify, replay, digest or report")
	}
	cmd, ok := auditCommands[args[0]]
	if !ok {
		return fmt.Errorf("unknown audit subcommand %q", args[0])
	}
	return cmd(ctx, args[1:], out, errOut)
}

// reader says who is reading the ledger and why: every audit command
// records its read as a consultation (auditlog.Consultation) before it
// shows anything.
type reader struct {
	actor, purpose string
}

func addReaderFlags(fs *flag.FlagSet) *reader {
	r := &reader{}
	fs.StringVar(&r.actor, "actor", defaultActor(), "who is reading, recorded with the read (default $LANTERN_ACTOR or the login name)")
	fs.StringVar(&r.purpose, "purpose", "audit", "why, recorded with the read")
	return r
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

// session is an open connection to the live database for one command.
type session struct {
	pool   *pgxpool.Pool
	reader *reader
}

// openLive connects to DATABASE_URL, the live system of record.
func openLive(ctx context.Context, r *reader) (*session, error) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return nil, errors.New("DATABASE_URL is not set: it names the live database holding the ledger")
	}
	pool, err := pgdb.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return &session{pool: pool, reader: r}, nil
}

func (s *session) close() { s.pool.Close() }

// record writes the consultation before anything is read out.
func (s *session) record(ctx context.Context, action, subject string) error {
	return auditlog.DBRecorder{DB: s.pool}.RecordConsultation(ctx, auditlog.Consultation{
		At: clock.System.Now(), Actor: s.reader.actor, Action: action, Subject: subject, Purpose: s.reader.purpose})
}

// parseFlags parses args, allowing flags after positional arguments too,
// and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func envOrDefault(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

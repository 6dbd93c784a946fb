package localenv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
)

// Flag names every command uses for the two servers.
const (
	DatabaseFlag = "database-url"
	NATSFlag     = "nats-url"
)

// AddDatabaseFlag adds --database-url to fs.
func AddDatabaseFlag(fs *pflag.FlagSet) {
	fs.String(DatabaseFlag, "", "the live PostgreSQL database (default $DATABASE_URL, else the one make run left in .lantern/)")
}

// AddNATSFlag adds --nats-url to fs.
func AddNATSFlag(fs *pflag.FlagSet) {
	fs.String(NATSFlag, "", "the NATS server (default $NATS_URL, else the one make run left in .lantern/)")
}

// DatabaseURL resolves --database-url for cmd.
func DatabaseURL(cmd *cobra.Command) (Setting, error) {
	s, err := resolveFlag(cmd, DatabaseFlag, "DATABASE_URL", func(s Settings) string { return s.DatabaseURL })
	if err == nil && s.Value == "" {
		err = errors.New("no database: pass --database-url, set DATABASE_URL, or run this from the project while make run is running")
	}
	return s, err
}

// NATSURL resolves --nats-url for cmd.
func NATSURL(cmd *cobra.Command) (Setting, error) {
	s, err := resolveFlag(cmd, NATSFlag, "NATS_URL", func(s Settings) string { return s.NATSURL })
	if err == nil && s.Value == "" {
		err = errors.New("no NATS server: pass --nats-url, set NATS_URL, or run this from the project while make run is running")
	}
	return s, err
}

func resolveFlag(cmd *cobra.Command, name, env string, local func(Settings) string) (Setting, error) {
	v, err := cmd.Flags().GetString(name)
	if err != nil {
		return Setting{}, err
	}
	return Resolve(name, v, cmd.Flags().Changed(name), env, local)
}

// ConnectNATS connects to the server s names as identity (see
// pkg/natsauth), with the credentials in $LANTERN_NATS_CREDS_DIR, else
// those of the pipeline make run is running here, as client name.
func ConnectNATS(s Setting, identity, name string) (*nats.Conn, error) {
	dir, ca := natsCredentials()
	auth, err := natsauth.ClientOptions(identity, dir, ca)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(s.Value, append(auth, nats.Name(name), nats.Timeout(5*time.Second))...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS at %s (from %s) as %s: %w", config.Redact(s.Value), s.Source, identity, err)
	}
	return nc, nil
}

// OpenDatabase opens the database s names; a failure says which database
// it was and where its address came from.
func OpenDatabase(ctx context.Context, s Setting) (*pgxpool.Pool, error) {
	pool, err := pgdb.Open(ctx, s.Value)
	if err != nil {
		return nil, fmt.Errorf("opening the database at %s (from %s): %w", config.Redact(s.Value), s.Source, err)
	}
	return pool, nil
}

// ConnectJetStream is ConnectNATS with JetStream opened on the connection,
// which the caller closes.
func ConnectJetStream(s Setting, identity, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := ConnectNATS(s, identity, name)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("opening JetStream: %w", err)
	}
	return nc, js, nil
}

func natsCredentials() (dir, ca string) {
	dir, ca = os.Getenv("LANTERN_NATS_CREDS_DIR"), os.Getenv("LANTERN_NATS_CA")
	if dir != "" {
		return dir, ca
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", ca
	}
	if f, ok, _ := Find(wd); ok {
		return f.NATSCredsDir, cmp.Or(ca, f.NATSCA)
	}
	return "", ca
}

// StreamMissing explains a stream that the server nc reached does not
// have: most likely that server is not the one Lantern's services use.
// Other errors are returned as they are.
func StreamMissing(err error, stream string, nc *nats.Conn, s Setting) error {
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	return fmt.Errorf("stream %s not found on the NATS server at %s (server %q, version %s; address from %s): "+
		"it is not the server Lantern's services use; pass --nats-url or set NATS_URL to the address make run printed",
		stream, nc.ConnectedUrlRedacted(), nc.ConnectedServerName(), nc.ConnectedServerVersion(), s.Source)
}

// Package natscmd is `lantern nats`: the broker's accounts for an operator
// to install (config), the provisioning of streams and consumers by the one
// identity allowed to declare them (provision), and revoking an identity's
// credentials (revoke).
package natscmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/devtls"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/pkg/retention"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/command"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/localenv"
)

// NewCommand is `lantern nats`.
func NewCommand() *cobra.Command {
	cmd := command.NewGroup("nats", "the broker's identities: print its accounts, provision streams and consumers, revoke credentials",
		newConfigCommand(), newProvisionCommand(), newRevokeCommand())
	cmd.Long = `lantern nats: the broker's identities.

Every service connects to NATS as its own identity, allowed only its own subjects and consumer;
a provisioner declares the streams and consumers; an observer reads sg.> and changes nothing.
The keys and each identity's credentials live in the credentials folder: --creds-dir, else
$LANTERN_NATS_CREDS_DIR, else .lantern/nats-auth (what make run uses).`
	cmd.PersistentFlags().String("creds-dir", "", "the credentials folder (default $LANTERN_NATS_CREDS_DIR, else .lantern/nats-auth)")
	return cmd
}

func credsDir(cmd *cobra.Command) (string, error) {
	if d, _ := cmd.Flags().GetString("creds-dir"); d != "" {
		return d, nil
	}
	if d := os.Getenv("LANTERN_NATS_CREDS_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return filepath.Join(wd, localenv.StateDirName, "nats-auth"), nil
}

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "issue every identity's credentials and print the server configuration to install",
		Long: `Creates the operator and account keys on first use (keep them: JetStream keeps the streams
under the account's key), writes a credentials file for every identity (<identity>.creds, for
LANTERN_NATS_CREDS_DIR), and prints the accounts part of a nats-server configuration: the
operator, the system account and the account JWTs. It holds no secret. Include it on every
server of the cluster; clients without credentials are then refused.`,
		Args: command.Args(),
	}
	routes := cmd.Flags().StringSlice("routes", nil, "for a cluster: the other servers' route URLs (nats-route://host:6222); prints a cluster block whose routes authenticate")
	listen := cmd.Flags().String("cluster-listen", "0.0.0.0:6222", "for a cluster: where this server listens for routes")
	routeTLS := cmd.Flags().StringSlice("route-tls", nil, "for a cluster: CA,CERT,KEY files for routes' mutual TLS")
	out := cmd.Flags().String("out", "", "write the configuration to this file instead of printing it (for an image without a shell)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		dir, err := credsDir(cmd)
		if err != nil {
			return err
		}
		a, err := natsauth.Prepare(dir)
		if err != nil {
			return err
		}
		conf, err := a.ServerConfig()
		if err != nil {
			return err
		}
		if len(*routes) > 0 {
			block, err := clusterBlock(a, *listen, *routes, *routeTLS)
			if err != nil {
				return err
			}
			conf += block
		}
		if *out != "" {
			// The configuration holds no secret: servers read it.
			if err := os.WriteFile(*out, []byte(conf), 0o644); err != nil {
				return err
			}
		} else {
			fmt.Fprint(cmd.OutOrStdout(), conf)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "credentials of every identity written to %s; then run `lantern nats provision`\n", dir)
		return nil
	}
	return cmd
}

func newProvisionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provision",
		Short: "declare the streams and every service's consumer, as the provisioner",
		Args:  command.Args(),
	}
	localenv.AddNATSFlag(cmd.Flags())
	ackWait := cmd.Flags().Duration("ack-wait", envDuration("LANTERN_ACK_WAIT", 30*time.Second), "how long a consumer's unacknowledged message waits before redelivery")
	replicas := cmd.Flags().Int("replicas", 1, "stream replicas: 3 on a three-server cluster")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		server, err := localenv.NATSURL(cmd)
		if err != nil {
			return err
		}
		dir, err := credsDir(cmd)
		if err != nil {
			return err
		}
		if err := Provision(cmd.Context(), server.Value, dir, os.Getenv("LANTERN_NATS_CA"), *ackWait, *replicas); err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), "streams and consumers declared")
		return nil
	}
	return cmd
}

func newRevokeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke IDENTITY",
		Short: "refuse an identity's current credentials and issue it new ones",
		Long: `Adds the identity's current credentials to the account's revocations and writes it fresh
credentials. Install the printed configuration on every server (and reload it) for the
revocation to take effect; the revoked credentials are then refused.`,
		Args: command.Args("IDENTITY"),
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, ok := natsauth.Lookup(args[0])
		if !ok {
			return command.Usagef("%q is not an identity", args[0])
		}
		dir, err := credsDir(cmd)
		if err != nil {
			return err
		}
		a, err := natsauth.Open(dir)
		if err != nil {
			return err
		}
		creds, err := os.ReadFile(natsauth.CredsFile(dir, id.Name))
		if err != nil {
			return err
		}
		if err := a.Revoke(creds); err != nil {
			return err
		}
		if err := a.IssueOne(id, 0); err != nil {
			return err
		}
		conf, err := a.ServerConfig()
		if err != nil {
			return err
		}
		fmt.Fprint(cmd.OutOrStdout(), conf)
		return os.WriteFile(natsauth.ServerConfigFile(dir), []byte(conf), 0o600)
	}
	return cmd
}

// Provision connects to url as the provisioner and declares the streams
// and consumers (bus.Provision).
func Provision(ctx context.Context, url, credsDir, ca string, ackWait time.Duration, replicas int) error {
	opts, err := natsauth.ClientOptions(natsauth.Provisioner, credsDir, ca)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	nc, js, err := bus.Connect(ctx, url, "lantern-provisioner", zap.NewNop(), opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	policy, err := retention.FromEnv()
	if err != nil {
		return err
	}
	return bus.Provision(ctx, js, bus.StreamOptions{Replicas: replicas, MaxAge: policy.StreamMaxAge()}, ackWait)
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

// WriteServerConfig writes the embedded broker's configuration next to the
// authority's: Lantern's accounts and, when tlsFiles is set, client TLS
// with those files. It returns the file's path.
func WriteServerConfig(a *natsauth.Authority, tlsFiles *devtls.Files) (string, error) {
	conf, err := a.ServerConfig()
	if err != nil {
		return "", err
	}
	if tlsFiles != nil {
		conf += tlsFiles.ServerConfig()
	}
	path := filepath.Join(a.Dir(), "server.conf")
	return path, os.WriteFile(path, []byte(conf), 0o600)
}

// TLSFiles makes, or reuses, the development authority and certificate in
// dir for a broker that serves TLS.
func TLSFiles(dir string) (*devtls.Files, error) {
	f, err := devtls.Ensure(dir, time.Now())
	if err != nil {
		return nil, fmt.Errorf("making the development certificates: %w", err)
	}
	return &f, nil
}

func clusterBlock(a *natsauth.Authority, listen string, routes, routeTLS []string) (string, error) {
	tlsBlock := ""
	switch len(routeTLS) {
	case 0:
	case 3:
		tlsBlock = devtls.Files{CA: routeTLS[0], Cert: routeTLS[1], Key: routeTLS[2]}.RouteConfig()
	default:
		return "", command.Usagef("--route-tls wants CA,CERT,KEY")
	}
	return a.ClusterConfig("lantern", listen, routes, tlsBlock)
}

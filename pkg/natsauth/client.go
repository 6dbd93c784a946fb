package natsauth

import (
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
)

// ClientOptions are the connection options of identity: its credentials
// from credsDir (none when credsDir is empty), its own inbox prefix, and
// the certificate authorities in caFile for a TLS server (the system's
// when empty).
func ClientOptions(identity, credsDir, caFile string) ([]nats.Option, error) {
	opts := []nats.Option{nats.CustomInboxPrefix(InboxPrefix(identity))}
	if credsDir != "" {
		file := CredsFile(credsDir, identity)
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("the NATS credentials of %s: %w", identity, err)
		}
		opts = append(opts, nats.UserCredentials(file))
	}
	if caFile != "" {
		opts = append(opts, nats.RootCAs(caFile))
	}
	return opts, nil
}

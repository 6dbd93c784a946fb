// Package config reads a service's settings from the environment into a
// struct and checks them all at start, reporting every problem at once so an
// operator fixes a deployment in one pass instead of one error per restart.
package config

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Common holds the settings every Lantern service shares (contract.md
// section 4), one sub-struct per capability, so that the service
// environment (pkg/serverenv) builds each capability from its own settings.
type Common struct {
	Database Database
	NATS     NATS
	Logging  Logging
	Shutdown Shutdown
}

// CommonSettings lets the service environment find these settings in a
// service's own, which embeds them.
func (c *Common) CommonSettings() *Common { return c }

// Validate reports every problem with the common settings.
func (c Common) Validate() error {
	return errors.Join(c.Database.Validate(), c.NATS.Validate(), c.Logging.Validate(), c.Shutdown.Validate())
}

// Database is where a service keeps its state.
type Database struct {
	// URL is the PostgreSQL connection string, as the service's own role
	// (pkg/dbroles), which may use only its own schemas' rows.
	URL string `env:"DATABASE_URL"`
	// OwnerURL, if set, is the connection string of the owner role that
	// migrations run as; empty migrates as URL's role.
	OwnerURL string `env:"DATABASE_OWNER_URL"`
}

// Validate reports a missing or malformed connection string.
func (d Database) Validate() error {
	if d.URL == "" {
		return errors.New("DATABASE_URL is required")
	}
	if err := checkURL(d.URL, "postgres", "postgresql"); err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	if d.OwnerURL == "" {
		return nil
	}
	if err := checkURL(d.OwnerURL, "postgres", "postgresql"); err != nil {
		return fmt.Errorf("DATABASE_OWNER_URL: %w", err)
	}
	return nil
}

// NATS is the broker.
type NATS struct {
	// URL is the NATS server; `make run` points it at its embedded one.
	// A tls:// address requires TLS.
	URL string `env:"NATS_URL, default=nats://127.0.0.1:4222"`
	// CredsDir holds each identity's credentials, <identity>.creds
	// (pkg/natsauth); a service connects as its own. Empty connects
	// without credentials, which a server with Lantern's accounts refuses.
	CredsDir string `env:"LANTERN_NATS_CREDS_DIR"`
	// CA is a PEM file of the certificate authorities that sign the
	// servers' certificates; empty trusts the system's.
	CA string `env:"LANTERN_NATS_CA"`
}

// Validate reports a malformed server list.
func (n NATS) Validate() error {
	var errs []error
	if err := checkURL(n.URL, "nats", "tls"); err != nil {
		errs = append(errs, fmt.Errorf("NATS_URL: %w", err))
	}
	if n.CredsDir != "" {
		errs = append(errs, CheckDir("LANTERN_NATS_CREDS_DIR", n.CredsDir))
	}
	if n.CA != "" {
		if st, err := os.Stat(n.CA); err != nil || st.IsDir() {
			errs = append(errs, fmt.Errorf("LANTERN_NATS_CA: %q is not a readable file", n.CA))
		}
	}
	return errors.Join(errs...)
}

// Logging shapes the log. The logger itself is built from the same
// variables before the rest of the settings are read, so that a bad setting
// is logged like everything else.
type Logging struct {
	// Level is a zap level: debug, info, warn or error.
	Level string `env:"LOG_LEVEL, default=info"`
	// Mode is production (JSON) or development (console).
	Mode string `env:"LOG_MODE, default=production"`
}

// Validate reports an unknown mode.
func (l Logging) Validate() error {
	if l.Mode != "production" && l.Mode != "development" {
		return fmt.Errorf("LOG_MODE: %q is neither production nor development", l.Mode)
	}
	return nil
}

// Shutdown bounds how long a stopping service waits for in-flight work.
type Shutdown struct {
	// Grace is how long HTTP requests in flight get to finish.
	Grace time.Duration `env:"LANTERN_SHUTDOWN_GRACE, default=10s"`
}

// Validate reports a grace that is not positive.
func (s Shutdown) Validate() error {
	if s.Grace <= 0 {
		return errors.New("LANTERN_SHUTDOWN_GRACE must be positive")
	}
	return nil
}

// Consumer tunes a service's durable JetStream consumer.
type Consumer struct {
	// AckWait bounds how long a crashed consumer delays an event.
	AckWait time.Duration `env:"LANTERN_ACK_WAIT, default=30s"`
	// Batch is the most messages applied in one PostgreSQL transaction
	// (bus.Batch); 1 applies each in its own, 0 means bus's default. A
	// batch must be handled well within the ack wait.
	Batch int `env:"LANTERN_CONSUMER_BATCH, default=128"`
}

// maxBatch keeps a batch within the consumer's MaxAckPending.
const maxBatch = 1000

// Validate reports an ack wait too short to handle an event in, and a batch
// size above 1000.
func (c Consumer) Validate() error {
	var errs []error
	if c.AckWait < time.Second {
		errs = append(errs, errors.New("LANTERN_ACK_WAIT must be at least 1s"))
	}
	if c.Batch < 0 || c.Batch > maxBatch {
		errs = append(errs, fmt.Errorf("LANTERN_CONSUMER_BATCH must be between 1 and %d", maxBatch))
	}
	return errors.Join(errs...)
}

// Reference is the reference data folder and how often it is checked for
// changes.
type Reference struct {
	// Dir is the reference data folder.
	Dir string `env:"LANTERN_REFERENCE_DIR, default=reference"`
	// Poll is how often the folder is checked for changes.
	Poll time.Duration `env:"LANTERN_REFERENCE_POLL, default=5s"`
}

// Validate reports a missing folder or a poll too tight to be sensible.
func (r Reference) Validate() error {
	errs := []error{CheckDir("LANTERN_REFERENCE_DIR", r.Dir)}
	if r.Poll < 100*time.Millisecond {
		errs = append(errs, errors.New("LANTERN_REFERENCE_POLL must be at least 100ms"))
	}
	return errors.Join(errs...)
}

// CheckAddr validates a host:port listen address.
func CheckAddr(name, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s: %q is not host:port", name, addr)
	}
	return nil
}

// CheckDir validates that a directory exists.
func CheckDir(name, dir string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("%s: %q is not a readable directory", name, dir)
	}
	return nil
}

func checkURL(raw string, schemes ...string) error {
	for _, one := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil {
			return errors.New("not a valid URL")
		}
		ok := false
		for _, s := range schemes {
			ok = ok || u.Scheme == s
		}
		if !ok {
			return fmt.Errorf("scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
		}
	}
	return nil
}

// Validator is a config that can check itself.
type Validator interface{ Validate() error }

// Load fills cfg from the environment and validates it.
func Load(ctx context.Context, cfg Validator) error {
	if err := envconfig.Process(ctx, cfg); err != nil {
		return fmt.Errorf("reading environment: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	return nil
}

// Redact hides the password in a connection URL so it can be logged.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// CommonFor is a valid Common for the given servers, with development
// logging and the default grace, for harnesses that start a service in
// process.
func CommonFor(databaseURL, natsURL string) Common {
	return Common{Database: Database{URL: databaseURL}, NATS: NATS{URL: natsURL},
		Logging: Logging{Level: "info", Mode: "development"}, Shutdown: Shutdown{Grace: 10 * time.Second}}
}

// EventIDs keys the ids a service derives for its events from what other
// services see, such as a notification id (cloudevent.IDs). Each service
// has a key of its own; make run and the test clusters generate them.
type EventIDs struct {
	// Key is a secret of at least minEventIDKey characters. Changing it
	// changes the ids of events not yet published, which is harmless:
	// their effects are idempotent by their own keys too.
	Key string `env:"LANTERN_EVENT_ID_KEY"`
}

// minEventIDKey is the shortest key accepted: a key someone could guess
// lets them predict the ids.
const minEventIDKey = 16

// Validate reports a missing or short key.
func (e EventIDs) Validate() error {
	if len(e.Key) < minEventIDKey {
		return fmt.Errorf("LANTERN_EVENT_ID_KEY is required: a secret of at least %d characters, one per service (make run generates them); without it anyone who sees a notification can predict the ids of its events and publish first with them, so that the broker drops the genuine ones as duplicates", minEventIDKey)
	}
	return nil
}

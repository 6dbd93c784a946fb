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

	"github.com/sethvargo/go-envconfig"
)

// Common holds the settings every Lantern service shares (contract.md
// section 4).
type Common struct {
	// DatabaseURL is the PostgreSQL connection string.
	DatabaseURL string `env:"DATABASE_URL"`
	// NATSURL is the NATS server; `make run` points it at its embedded one.
	NATSURL string `env:"NATS_URL, default=nats://127.0.0.1:4222"`
	// LogLevel is a zap level: debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL, default=info"`
	// LogMode is production (JSON) or development (console).
	LogMode string `env:"LOG_MODE, default=production"`
}

// Validate reports every problem with the common settings.
func (c Common) Validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required"))
	} else if err := checkURL(c.DatabaseURL, "postgres", "postgresql"); err != nil {
		errs = append(errs, fmt.Errorf("DATABASE_URL: %w", err))
	}
	if err := checkURL(c.NATSURL, "nats", "tls"); err != nil {
		errs = append(errs, fmt.Errorf("NATS_URL: %w", err))
	}
	if c.LogMode != "production" && c.LogMode != "development" {
		errs = append(errs, fmt.Errorf("LOG_MODE: %q is neither production nor development", c.LogMode))
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

// Package config holds the router's settings.
package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/config"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	Consumer  config.Consumer
	Reference config.Reference
	// AdminAddr is where /healthz and /readyz are served.
	AdminAddr string `env:"ROUTER_ADMIN_ADDR, default=127.0.0.1:9082"`
	// PolicyFile is the routing policy, relative to the working directory
	// unless absolute.
	PolicyFile string `env:"LANTERN_POLICY_FILE, default=policy/default.yaml"`
	// PolicyPoll is how often the router looks for a changed policy file.
	PolicyPoll time.Duration `env:"LANTERN_POLICY_POLL, default=5s"`
	// MatchKey keys the hashes the router counts repeat incidents with. It
	// is a secret: with it, nobody can test a guessed name against the
	// stored keys. Changing it starts the repeat history afresh. It is
	// required: make run generates one for development.
	MatchKey string `env:"LANTERN_MATCH_KEY"`
	// EventIDs keys the notification ids, from which the ids of every
	// later event about a notification are derived.
	EventIDs config.EventIDs
}

// minMatchKey is the shortest match key accepted: a secret someone could
// guess is no secret.
const minMatchKey = 16

// AdminAddress is where the service environment serves /healthz and
// /readyz.
func (c *Config) AdminAddress() string { return c.AdminAddr }

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Common.Validate(), c.Consumer.Validate(), c.Reference.Validate(), c.EventIDs.Validate(),
		config.CheckAddr("ROUTER_ADMIN_ADDR", c.AdminAddr)}
	if st, err := os.Stat(c.PolicyFile); err != nil || st.IsDir() {
		errs = append(errs, fmt.Errorf("LANTERN_POLICY_FILE: %q is not a readable file", c.PolicyFile))
	}
	if c.PolicyPoll < 100*time.Millisecond {
		errs = append(errs, errors.New("LANTERN_POLICY_POLL must be at least 100ms"))
	}
	if len(c.MatchKey) < minMatchKey {
		errs = append(errs, fmt.Errorf("LANTERN_MATCH_KEY is required: a secret of at least %d characters (make run generates one); without it anyone could test a guessed name against the stored repeat keys", minMatchKey))
	}
	return errors.Join(errs...)
}

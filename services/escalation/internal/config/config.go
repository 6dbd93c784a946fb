// Package config holds the escalation service's settings.
package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	Consumer config.Consumer
	// Reference is the reference data: MASH opening hours for the triage
	// deadline, and the manager contacts (escalation_contacts.csv).
	Reference config.Reference
	// EventIDs keys the ids of the SLA events.
	EventIDs config.EventIDs
	// AdminAddr is where /healthz and /readyz are served.
	AdminAddr string `env:"ESCALATION_ADMIN_ADDR, default=127.0.0.1:9085"`
	// Lead is how long before a deadline an open step is at risk.
	Lead time.Duration `env:"LANTERN_SLA_LEAD, default=1h"`
	// LeadFraction caps the lead at this share of a step's window, for
	// short deadlines.
	LeadFraction float64 `env:"LANTERN_SLA_LEAD_FRACTION, default=0.25"`
	// Tick is how often the scheduler looks for due steps; it bounds how
	// late an alarm is raised.
	Tick time.Duration `env:"LANTERN_SLA_TICK, default=10s"`
	// CatchUp bounds how long the scheduler waits at start for the
	// consumer to apply the events that arrived while the service was down.
	CatchUp time.Duration `env:"LANTERN_SLA_CATCHUP, default=2m"`
	// AcknowledgingKinds are the recipient kinds that must acknowledge.
	AcknowledgingKinds string `env:"LANTERN_SLA_ACK_KINDS, default=school,early_years,home_education,health_visiting,school_nursing,midwifery,gp,probation,marac,idva"`
	// rules are the LANTERN_SLA_* settings as Validate parsed them.
	rules sla.Rules
}

// AdminAddress is where the service environment serves /healthz and
// /readyz.
func (c *Config) AdminAddress() string { return c.AdminAddr }

// Validate reports every problem at once.
func (c *Config) Validate() error {
	rules, err := c.parseRules()
	c.rules = rules
	errs := []error{c.Common.Validate(), c.Consumer.Validate(), c.Reference.Validate(), c.EventIDs.Validate(), err,
		config.CheckAddr("ESCALATION_ADMIN_ADDR", c.AdminAddr)}
	if c.Tick < 100*time.Millisecond {
		errs = append(errs, errors.New("LANTERN_SLA_TICK must be at least 100ms"))
	}
	if c.CatchUp < 0 {
		errs = append(errs, errors.New("LANTERN_SLA_CATCHUP must not be negative"))
	}
	return errors.Join(errs...)
}

// Rules are the deadline rules the settings describe, as Validate parsed
// them.
func (c *Config) Rules() sla.Rules { return c.rules }

// parseRules returns the deadline rules the settings describe, or every
// problem with them.
func (c *Config) parseRules() (sla.Rules, error) {
	var errs []error
	if c.Lead < 0 {
		errs = append(errs, errors.New("LANTERN_SLA_LEAD must not be negative"))
	}
	if c.LeadFraction <= 0 || c.LeadFraction >= 1 {
		errs = append(errs, fmt.Errorf("LANTERN_SLA_LEAD_FRACTION must be above 0 and below 1, got %v", c.LeadFraction))
	}
	kinds, err := sla.ParseKinds(c.AcknowledgingKinds)
	if err != nil {
		errs = append(errs, fmt.Errorf("LANTERN_SLA_ACK_KINDS: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return sla.Rules{}, err
	}
	return sla.Rules{Lead: c.Lead, LeadFraction: c.LeadFraction, AcknowledgingKinds: kinds}, nil
}

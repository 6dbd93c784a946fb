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
	// ReferenceDir is the reference data folder: MASH opening hours for the
	// triage deadline, and the manager contacts (escalation_contacts.csv).
	ReferenceDir string `env:"LANTERN_REFERENCE_DIR, default=reference"`
	// ReferencePoll is how often the reference data folder is checked for
	// changes.
	ReferencePoll time.Duration `env:"LANTERN_REFERENCE_POLL, default=5s"`
	// AckWait bounds how long a crashed escalation service delays an event.
	AckWait time.Duration `env:"LANTERN_ACK_WAIT, default=30s"`
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
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Common.Validate(), config.CheckDir("LANTERN_REFERENCE_DIR", c.ReferenceDir)}
	_, err := c.Rules()
	errs = append(errs, err)
	if c.ReferencePoll < 100*time.Millisecond {
		errs = append(errs, errors.New("LANTERN_REFERENCE_POLL must be at least 100ms"))
	}
	if c.AckWait < time.Second {
		errs = append(errs, errors.New("LANTERN_ACK_WAIT must be at least 1s"))
	}
	if c.Tick < 100*time.Millisecond {
		errs = append(errs, errors.New("LANTERN_SLA_TICK must be at least 100ms"))
	}
	if c.CatchUp < 0 {
		errs = append(errs, errors.New("LANTERN_SLA_CATCHUP must not be negative"))
	}
	return errors.Join(errs...)
}

// Rules returns the deadline rules the settings describe, or every problem
// with them.
func (c *Config) Rules() (sla.Rules, error) {
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

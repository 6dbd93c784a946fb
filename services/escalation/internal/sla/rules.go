package sla

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// Rules decide which steps a notice is watched for and when each is at
// risk and due.
type Rules struct {
	// Lead is how long before a deadline a step that is not done is at
	// risk.
	Lead time.Duration
	// LeadFraction caps the lead for short deadlines: a step given a
	// window W (from its start to its deadline) is at risk at most
	// LeadFraction×W before the deadline, so that a one-hour deadline is not
	// at risk from the moment it starts.
	LeadFraction float64
	// AcknowledgingKinds are the recipient kinds whose notices must also be
	// acknowledged by a person by the notice's deadline.
	AcknowledgingKinds []events.RecipientKind
}

// TriageRuleID names R2 on the SLA events of the triage step. Its deadline
// comes on the MASH notice (triage_due_at), computed by the router from the
// routing policy, so that the policy is the one source of R2's limits.
const TriageRuleID = "R2"

// DefaultAcknowledgingKinds are the recipient kinds that must acknowledge
// by default: every kind of domain.md section 8.3 but the MASH, whose
// triage decision is its acknowledgement.
const DefaultAcknowledgingKinds = "school,early_years,home_education,health_visiting,school_nursing,midwifery,gp,probation,marac,idva"

// ParseKinds reads a comma-separated list of recipient kinds.
func ParseKinds(s string) ([]events.RecipientKind, error) {
	var kinds []events.RecipientKind
	var errs []error
	for item := range strings.SplitSeq(s, ",") {
		kind := events.RecipientKind(strings.TrimSpace(item))
		switch {
		case kind == "":
			continue
		case !kind.Valid():
			errs = append(errs, fmt.Errorf("%q is not a recipient kind", kind))
		case slices.Contains(kinds, kind):
			errs = append(errs, fmt.Errorf("%q is listed twice", kind))
		default:
			kinds = append(kinds, kind)
		}
	}
	return kinds, errors.Join(errs...)
}

// DefaultRules returns the rules with every default setting.
func DefaultRules() Rules {
	kinds, _ := ParseKinds(DefaultAcknowledgingKinds)
	return Rules{Lead: time.Hour, LeadFraction: 0.25, AcknowledgingKinds: kinds}
}

// AtRisk returns when a step that starts at start and is due at due
// becomes at risk: Lead before the deadline, or LeadFraction of the step's
// window before it when that is shorter. It is never after due, and is due
// itself when the window is empty or negative.
func (r Rules) AtRisk(start, due time.Time) time.Time {
	window := due.Sub(start)
	lead := min(r.Lead, time.Duration(float64(window)*r.LeadFraction))
	return due.Add(-max(lead, 0))
}

// acknowledges reports whether notices to kind must be acknowledged: the
// listed kinds, and every kind a partnership's policy declared, which get
// the same treatment as the contract's own.
func (r Rules) acknowledges(kind events.RecipientKind) bool {
	return slices.Contains(r.AcknowledgingKinds, kind) || !events.IsBuiltinKind(kind)
}

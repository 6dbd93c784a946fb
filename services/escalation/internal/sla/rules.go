package sla

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
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
	// Triage is R2, the MASH's deadline to rate a notice it received.
	Triage TriageRule
}

// TriageRule is domain.md R2: from the MASH's receipt of a notice, a RAG
// rating is due within a limit that depends on the rating the router
// proposed (R2a), on the calendar that limit runs on.
type TriageRule struct {
	// RuleID names the rule on the SLA events of the triage step.
	RuleID string
	// Limits gives the limit for each proposed rating.
	Limits map[string]Limit
	// Fallback is the rating assumed when the notice proposes none.
	Fallback string
}

// Limit is a time limit on a calendar: CLOCK (elapsed time) or MASH_HOURS
// (time inside the local authority's MASH opening hours, bank holidays
// closed).
type Limit struct {
	Within   time.Duration
	Calendar calendar.Kind
}

// The defaults of domain.md section 8.3: R2's limits and the recipients that
// must acknowledge.
const (
	DefaultTriageLimits       = "red=4h/clock,amber=24h/mash_hours,green=72h/mash_hours"
	DefaultTriageRuleID       = "R2"
	DefaultTriageFallback     = events.RAGAmber
	DefaultAcknowledgingKinds = "school,early_years,home_education,health_visiting,school_nursing,midwifery,gp,probation,marac,idva"
)

// ParseTriageLimits reads limits written as rating=duration/calendar pairs
// separated by commas, such as DefaultTriageLimits. Every rating must be
// given once, with a positive duration, on clock or mash_hours.
func ParseTriageLimits(s string) (map[string]Limit, error) {
	limits := map[string]Limit{}
	var errs []error
	for item := range strings.SplitSeq(s, ",") {
		rag, limit, err := parseLimit(strings.TrimSpace(item))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := limits[rag]; dup {
			errs = append(errs, fmt.Errorf("rating %q is given twice", rag))
		}
		limits[rag] = limit
	}
	for _, rag := range ratings() {
		if _, ok := limits[rag]; !ok {
			errs = append(errs, fmt.Errorf("no limit for rating %q", rag))
		}
	}
	return limits, errors.Join(errs...)
}

func parseLimit(item string) (string, Limit, error) {
	rag, rest, ok := strings.Cut(item, "=")
	within, cal, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return "", Limit{}, fmt.Errorf("%q is not rating=duration/calendar", item)
	}
	if !slices.Contains(ratings(), rag) {
		return "", Limit{}, fmt.Errorf("%q: %q is not one of %s", item, rag, strings.Join(ratings(), ", "))
	}
	d, err := time.ParseDuration(within)
	if err != nil || d <= 0 {
		return "", Limit{}, fmt.Errorf("%q: %q is not a positive duration", item, within)
	}
	kind := calendar.Kind(cal)
	if kind != calendar.Clock && kind != calendar.MASHHours {
		return "", Limit{}, fmt.Errorf("%q: calendar %q is neither clock nor mash_hours", item, cal)
	}
	return rag, Limit{Within: d, Calendar: kind}, nil
}

// ParseRating checks that s is a RAG rating.
func ParseRating(s string) (string, error) {
	if !slices.Contains(ratings(), s) {
		return "", fmt.Errorf("%q is not one of %s", s, strings.Join(ratings(), ", "))
	}
	return s, nil
}

func ratings() []string { return []string{events.RAGRed, events.RAGAmber, events.RAGGreen} }

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
	limits, _ := ParseTriageLimits(DefaultTriageLimits)
	kinds, _ := ParseKinds(DefaultAcknowledgingKinds)
	return Rules{Lead: time.Hour, LeadFraction: 0.25, AcknowledgingKinds: kinds,
		Triage: TriageRule{RuleID: DefaultTriageRuleID, Limits: limits, Fallback: DefaultTriageFallback}}
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

// TriageDue returns R2's deadline for a MASH that received a notice at
// received with proposed rating rag (Fallback when empty or unknown), given
// the MASH's opening hours and the bank holidays. Zero opening hours (an
// unknown local authority) count as always open, so the deadline falls
// earlier rather than later.
func (t TriageRule) TriageDue(rag string, received time.Time, hours calendar.OpeningHours, hol calendar.Holidays) time.Time {
	limit, ok := t.Limits[rag]
	if !ok {
		limit = t.Limits[t.Fallback]
	}
	if limit.Calendar == calendar.MASHHours {
		return calendar.AddOpeningHours(received, limit.Within, hours, hol)
	}
	return calendar.AddClock(received, limit.Within)
}

// acknowledges reports whether notices to kind must be acknowledged.
func (r Rules) acknowledges(kind events.RecipientKind) bool {
	return slices.Contains(r.AcknowledgingKinds, kind)
}

// Package policy holds Lantern's routing policy: the rule set of domain.md
// section 8.3 and any rules a safeguarding partnership adds, read from a
// versioned YAML file that the partnership changes without a release. Each
// rule says when it fires, as an expression over the incident's facts
// (CEL, type-checked when the file is loaded), who is told and how to find
// the organisation in the reference data, with which payload profile, by
// when and on which calendar. What needs code (school calendars, the
// minimised notices, the MASH's proposed rating) is named by the file and
// lives in package routing and package notice.
package policy

import (
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// RAG is a MASH rating: red, amber or green.
type RAG string

// The ratings, from the least to the most urgent.
const (
	Green RAG = "green"
	Amber RAG = "amber"
	Red   RAG = "red"
)

// Rank orders ratings so that floors can be applied: green 1, amber 2,
// red 3, and 0 for anything else.
func (r RAG) Rank() int {
	switch r {
	case Green:
		return 1
	case Amber:
		return 2
	case Red:
		return 3
	}
	return 0
}

// AtLeast returns the more urgent of r and floor.
func (r RAG) AtLeast(floor RAG) RAG {
	if floor.Rank() > r.Rank() {
		return floor
	}
	return r
}

// Deadline says how long a step may take and on which calendar
// (domain.md section 8.1).
type Deadline struct {
	Calendar calendar.Kind
	// Limit is the time allowed on the clock and mash_hours calendars.
	Limit time.Duration
	// Days is "within N working days" on the working_day calendar; 0 means
	// the same working day.
	Days int
}

// Event is what a rule fires on.
type Event string

// The events a rule can fire on.
const (
	// OnIncident fires when the incident is reported.
	OnIncident Event = "incident"
	// OnTriage fires when the MASH records its rating and decision.
	OnTriage Event = "triage"
)

// Start is the moment a rule's deadline is counted from.
type Start string

// The starts of domain.md section 8.3.
const (
	StartIncident     Start = "incident_at"
	StartMASHReceived Start = "mash_received"
	// StartRAGAssigned is the MASH's rating; on an incident it is the
	// latest moment the proposed rating is due by R2.
	StartRAGAssigned Start = "rag_assigned"
)

// Finder says how the organisation a rule names is found in the reference
// data, and so how many notices the rule sends.
type Finder string

// The finders. Each is code in package routing.
const (
	// FindLocalAuthority is the incident's local authority's organisation
	// of the kind: its MASH (local_authorities.csv) or its service
	// (services.csv). One notice.
	FindLocalAuthority Finder = "local_authority"
	// FindEducationSetting is each selected child's school, college or
	// provider (schools.csv), one notice per setting naming its own pupils.
	FindEducationSetting Finder = "education_setting"
	// FindEarlyYearsSetting is like FindEducationSetting for early years
	// settings, where the setting's local authority opted in.
	FindEarlyYearsSetting Finder = "early_years_setting"
	// FindGPPractice is the practice of each selected child and of each
	// victim (gp_practices.csv), one notice per practice naming its own
	// patients.
	FindGPPractice Finder = "gp_practice"
)

// NoticeCode names the minimised notice a rule sends (domain.md 8.4). Each
// is code in package notice.
type NoticeCode string

// The notices.
const (
	NoticePolice         NoticeCode = "police_notice"   // A: the notice as the police sent it
	NoticeVictimFocused  NoticeCode = "victim_focused"  // A: without adults other than victims and perpetrators
	NoticeEducation      NoticeCode = "education"       // B or B_minimal: the selected children only
	NoticeHealthVisiting NoticeCode = "health_visiting" // C: children, the victim with any pregnancy, the perpetrator named
	NoticeHealthTeam     NoticeCode = "health_team"     // C: children, the victim and perpetrator named
	NoticeMidwifery      NoticeCode = "midwifery"       // C: the pregnant adult and the expected due date
	NoticeGP             NoticeCode = "gp"              // C: the practice's own patients
	NoticeProbation      NoticeCode = "probation"       // D
)

// CodeMASHFrontDoor names what the MASH notice gets from code: R2a's
// proposed rating and its reasons, R2's triage deadline, the recipients
// the other rules could not find, and the first place in the list.
const CodeMASHFrontDoor = "mash_front_door"

// Rule is one rule that sends notices.
type Rule struct {
	ID      string
	Purpose string
	Enabled bool
	On      Event
	// When decides whether the rule fires; nil always fires.
	When *Expr
	// Children selects the children the notice is about; nil takes every
	// child, and a rule that selects none sends nothing.
	Children  *Expr
	Kind      events.RecipientKind
	Find      Finder
	Profile   events.Profile
	Notice    NoticeCode
	Start     Start
	Due       []DueOption
	Flags     []FlagRule
	FrontDoor bool
	// LawfulBasis is recorded on every notice of the rule.
	LawfulBasis string
	// ProfileByLocalAuthority overrides Profile for the recipients of a
	// local authority (for a setting, the setting's own).
	ProfileByLocalAuthority map[string]events.Profile
	// AdultsForSafeCollection lets an education notice name the victim
	// and the perpetrator.
	AdultsForSafeCollection bool
	// SendBy, when set, bounds when the notice must be sent.
	SendBy *SendBy
	// Line is where the rule starts in the file.
	Line int
}

// ProfileFor returns the profile for a recipient in a local authority.
func (r *Rule) ProfileFor(localAuthorityCode string) events.Profile {
	if p, ok := r.ProfileByLocalAuthority[localAuthorityCode]; ok {
		return p
	}
	return r.Profile
}

// DueOption is one deadline of a rule, taken when its condition holds.
type DueOption struct {
	When     *Expr
	Deadline Deadline
	// Fallback applies to a school_day deadline when the setting's
	// calendar has no next open day.
	Fallback *Deadline
}

// FlagRule sets a flag on the notice when its condition holds.
type FlagRule struct {
	Name string
	When *Expr
}

// SendBy is R8's send-by time: a time of day on the due day, but no later
// than Within after the incident.
type SendBy struct {
	At     calendar.TimeOfDay
	Within time.Duration
}

// Condition is a named condition that rules read as conditions.<name>.
type Condition struct {
	Name string
	Expr *Expr
}

// KindDecl is a recipient kind a partnership declared.
type KindDecl struct {
	Kind  events.RecipientKind
	Label string
	// Line is where the file declares it.
	Line int
}

// Policy is one complete, valid version of the routing policy. It never
// changes once loaded, so it is safe for concurrent use.
type Policy struct {
	// Version is the version the file declares; every notice records it.
	Version string
	// Digest is a SHA-256 of the file's bytes, "sha256:<hex>", so that a
	// decision can be traced to the exact text it was made with.
	Digest string
	// File is the file the policy was read from.
	File string
	// LawfulBasis is recorded on every disclosure a rule does not give
	// its own basis for.
	LawfulBasis string
	// RepeatWindowMonths is how far apart, in months, two incidents may be
	// and still count as repeats of each other.
	RepeatWindowMonths int

	DefaultRAG DefaultRAG
	// Kinds are the recipient kinds the partnership declared.
	Kinds      []KindDecl
	Conditions []Condition
	Triage     TriageRule      // R2
	Repeat     RepeatChildRule // R17
	// Rules are the rules that send notices, in the file's order.
	Rules []*Rule
}

// RulesOn returns the enabled rules that fire on an event, in the file's
// order.
func (p *Policy) RulesOn(e Event) []*Rule {
	var out []*Rule
	for _, r := range p.Rules {
		if r.Enabled && r.On == e {
			out = append(out, r)
		}
	}
	return out
}

// RuleRecipients lists, for each rule id, the recipient kinds it names.
func (p *Policy) RuleRecipients() map[string][]events.RecipientKind {
	out := map[string][]events.RecipientKind{}
	for _, r := range p.Rules {
		if !containsKind(out[r.ID], r.Kind) {
			out[r.ID] = append(out[r.ID], r.Kind)
		}
	}
	return out
}

func containsKind(kinds []events.RecipientKind, k events.RecipientKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// DefaultRAG is R2a: the rating the router proposes to the MASH. Its
// floors and reasons are code (package routing); the file sets them.
type DefaultRAG struct {
	// ByDASH maps each DASH level to a rating.
	ByDASH map[string]RAG
	// YoungChildFloor applies when a child is under one or unborn.
	YoungChildFloor RAG
	// SamePartiesIncidents is the count of incidents between the same
	// parties in the window, this one included, that lifts the rating to
	// SamePartiesFloor and flags cumulative harm.
	SamePartiesIncidents int
	SamePartiesFloor     RAG
}

// TriageRule is R2: how long the MASH has to rate an incident, from its
// receipt. The first option whose condition holds applies.
type TriageRule struct {
	ID      string
	Purpose string
	Due     []DueOption
}

// RepeatChildRule is R17: the children it selects are repeat children,
// flagged for escalation on the MASH notice and marked repeat on their own
// notices.
type RepeatChildRule struct {
	ID       string
	Purpose  string
	Enabled  bool
	Children *Expr
}

// Package policy holds Lantern's routing policy: the settings of the rule
// set of domain.md section 8.3 (limits, calendars, thresholds, profiles),
// read from a versioned YAML file that a safeguarding partnership can change
// without a code change. The rules themselves live in package routing; this
// package says how much time each allows and when each applies.
package policy

import (
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/services/router/internal/notice"
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

// SendOn says which event a rule fires from.
type SendOn string

// The events a rule whose clock starts at the MASH's rating can fire from.
const (
	// OnTriage waits for the MASH's rating and times the deadline from it.
	OnTriage SendOn = "triage"
	// OnIncident sends at once, timing the deadline from the latest moment
	// the default rating is due.
	OnIncident SendOn = "incident"
)

// Rule holds what every rule has.
type Rule struct {
	// Enabled switches the rule on or off.
	Enabled bool
	// Purpose is why the recipient is told, in words it will read.
	Purpose string
}

// Policy is one complete, valid version of the routing policy. It never
// changes once loaded, so it is safe for concurrent use.
type Policy struct {
	// Version is the version the file declares; every notice records it.
	Version string
	// Digest is a SHA-256 of the file's bytes, "sha256:<hex>", so that a
	// decision can be traced to the exact text it was made with.
	Digest string
	// LawfulBasis is recorded on every disclosure.
	LawfulBasis string
	// RepeatWindow is how far apart, in months, two incidents may be and
	// still count as repeats of each other.
	RepeatWindowMonths int

	DefaultRAG     DefaultRAG
	MASH           MASHRule          // R1
	Triage         TriageRule        // R2
	School         SchoolRule        // R8
	HomeEducation  HomeEducationRule // R9
	EarlyYears     EarlyYearsRule    // R10
	HealthVisiting HealthRule        // R11
	SchoolNursing  HealthRule        // R12
	Midwifery      MidwiferyRule     // R13
	GP             GPRule            // R14
	Probation      ProbationRule     // R15
	MARAC          MARACRule         // R16
	RepeatChild    RepeatChildRule   // R17
}

// DefaultRAG is R2a: the rating the router proposes to the MASH.
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

// MASHRule is R1: every incident with a child or a pregnancy to the MASH.
type MASHRule struct {
	Rule
	Due         Deadline
	DueDASHHigh Deadline
}

// TriageRule is R2: how long the MASH has to rate an incident. The router
// uses it to foresee when a rating is due.
type TriageRule struct {
	Red, Amber, Green Deadline
}

// For returns the triage deadline of a rating.
func (t TriageRule) For(r RAG) Deadline {
	switch r {
	case Red:
		return t.Red
	case Amber:
		return t.Amber
	}
	return t.Green
}

// SchoolRule is R8: each pupil's school, college or sixteen-to-nineteen
// provider, before its next school day.
type SchoolRule struct {
	Rule
	// Profile is B or B_minimal; ProfileByLocalAuthority overrides it for
	// the settings of a local authority that chose otherwise.
	Profile                 notice.Profile
	ProfileByLocalAuthority map[string]notice.Profile
	// AdultsForSafeCollection lets a school see the victim's and the
	// perpetrator's names and roles.
	AdultsForSafeCollection bool
	// SendBy is the time on the due day by which the notice must be sent.
	SendBy calendar.TimeOfDay
	// SendWithin bounds the time from the incident to the send, so that a
	// notice due after a holiday still goes out promptly.
	SendWithin time.Duration
	// Fallback applies when the school's calendar has no next open day.
	Fallback Deadline
}

// ProfileFor returns the profile for a setting in a local authority.
func (s SchoolRule) ProfileFor(localAuthorityCode string) notice.Profile {
	if p, ok := s.ProfileByLocalAuthority[localAuthorityCode]; ok {
		return p
	}
	return s.Profile
}

// AgeRange bounds a rule to children of some ages, in whole years at the
// incident, both ends included.
type AgeRange struct {
	MinYears, MaxYears int
}

// Contains reports whether age is in the range.
func (r AgeRange) Contains(age int) bool { return age >= r.MinYears && age <= r.MaxYears }

// HomeEducationRule is R9: a child educated at home, or of compulsory
// school age and on no school roll, to the local authority's officer.
type HomeEducationRule struct {
	Rule
	Ages AgeRange
	Due  Deadline
}

// EarlyYearsRule is R10: a child at a registered early years setting, when
// the local authority has opted in.
type EarlyYearsRule struct {
	Rule
	Due Deadline
}

// HealthRule is R11 (health visiting) and R12 (school nursing): children of
// some ages to a 0-19 public health nursing team.
type HealthRule struct {
	Rule
	Ages   AgeRange
	SendOn SendOn
	Due    Deadline
	DueRed Deadline
}

// MidwiferyRule is R13: a pregnant adult to the maternity safeguarding team.
type MidwiferyRule struct {
	Rule
	Due    Deadline
	DueRed Deadline
}

// GPRule is R14: each child's and the victim's GP practice.
type GPRule struct {
	Rule
	// MinRAG is the MASH rating from which practices are told.
	MinRAG RAG
	// OnDASHHigh tells practices at once when the DASH level is high.
	OnDASHHigh bool
	Due        Deadline
}

// ProbationRule is R15: an adult on probation or managed under MAPPA.
type ProbationRule struct {
	Rule
	Due Deadline
	// DueUrgent applies when the DASH level is high or MAPPA manages the
	// person.
	DueUrgent Deadline
}

// MARACRule is R16: a high-risk or repeat case to the MARAC and the IDVA
// service.
type MARACRule struct {
	Rule
	// DASHYesCount is the DASH ticks that make a case high risk.
	DASHYesCount int
	// SamePartiesIncidents is the count of incidents between the same
	// parties in the window, this one included, that is potential
	// escalation.
	SamePartiesIncidents int
	DueMARAC             Deadline
	DueIDVA              Deadline
}

// RepeatChildRule is R17: a child reaching a number of incidents in the
// window is flagged for escalation and marked repeat.
type RepeatChildRule struct {
	Rule
	// ChildIncidents counts this incident too.
	ChildIncidents int
	// CountPoliceFigure adds the police's count of earlier incidents
	// between the same parties to each child of the household.
	CountPoliceFigure bool
}

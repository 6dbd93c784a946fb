// Package refdata loads Lantern's reference data: the local authorities and
// their MASH hours, the schools and their term calendars, the GP practices,
// each local authority's health, probation and domestic abuse services, and
// the bank holidays. It reads them from a folder of CSV and JSON files (the
// format is in contract.md section 3 and reference/README.md), checks every
// file before any of it is used, and keeps the last good version in memory
// while the folder is being edited.
package refdata

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// LocalAuthority is one local authority and its MASH, the front door that
// receives every notice about a child in its area.
type LocalAuthority struct {
	// Code is the ONS code, such as E06000035.
	Code            string
	Name            string
	MASHEmail       string
	MASHHours       calendar.OpeningHours
	EarlyYearsOptIn bool
}

// Phase is a school's phase of education. It decides nothing in routing on
// its own but tells the MASH and the simulator what kind of setting it is.
// schools.csv holds it as free text from the school's register entry (see
// ParsePhase); an unknown phase is a warning, never a refusal.
type Phase string

// The phases a school may have.
const (
	PhaseNursery              Phase = "nursery"
	PhasePrimary              Phase = "primary"
	PhaseMiddle               Phase = "middle"
	PhaseSecondary            Phase = "secondary"
	PhaseAllThrough           Phase = "all_through"
	PhaseSpecial              Phase = "special"
	PhaseAlternativeProvision Phase = "alternative_provision"
	PhaseSixteenToNineteen    Phase = "sixteen_to_nineteen"
	PhaseFurtherEducation     Phase = "further_education"
	// PhaseSchool is a school whose register entry does not say which
	// phase (education.type "school").
	PhaseSchool Phase = "school"
	// PhaseNotApplicable is GIAS's "Not applicable", used for most special
	// schools, pupil referral units and independent schools.
	PhaseNotApplicable Phase = "not_applicable"
	// PhaseUnknown is a phase Lantern does not recognise; loading warns.
	PhaseUnknown Phase = "unknown"
)

// Phases lists every phase, youngest pupils first.
func Phases() []Phase {
	return []Phase{PhaseNursery, PhasePrimary, PhaseMiddle, PhaseSecondary, PhaseAllThrough,
		PhaseSpecial, PhaseAlternativeProvision, PhaseSixteenToNineteen, PhaseFurtherEducation,
		PhaseSchool, PhaseNotApplicable, PhaseUnknown}
}

// phaseWords maps every word schools.csv may use for a phase, once
// normalised (lower case, runs of spaces and hyphens as one underscore),
// to the phase: Lantern's own names, the education.type words of the
// police notice (contract section 1) and GIAS's PhaseOfEducation names.
var phaseWords = map[string]Phase{
	"nursery": PhaseNursery, "early_years": PhaseNursery,
	"primary": PhasePrimary, "middle_deemed_primary": PhaseMiddle,
	"middle": PhaseMiddle, "middle_deemed_secondary": PhaseMiddle,
	"secondary": PhaseSecondary, "all_through": PhaseAllThrough,
	"special": PhaseSpecial, "alternative_provision": PhaseAlternativeProvision,
	"sixteen_to_nineteen": PhaseSixteenToNineteen, "16_plus": PhaseSixteenToNineteen, "16_19": PhaseSixteenToNineteen,
	"further_education": PhaseFurtherEducation, "fe": PhaseFurtherEducation,
	"school": PhaseSchool, "not_applicable": PhaseNotApplicable,
}

// ParsePhase reads a phase as a register writes it, case-insensitively:
// "fe", "sixteen_to_nineteen", "Middle deemed secondary", "16 plus",
// "All-through". ok is false for a phase it does not know.
func ParsePhase(s string) (phase Phase, ok bool) {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == '-' || r == '_' })
	phase, ok = phaseWords[strings.Join(words, "_")]
	if !ok {
		return PhaseUnknown, false
	}
	return phase, true
}

// School is one school or college, with the calendar its notices' deadlines
// run on.
type School struct {
	// URN is the unique reference number, such as 118234.
	URN                string
	Name               string
	LocalAuthorityCode string
	Phase              Phase
	// DSLEmail reaches the designated safeguarding lead.
	DSLEmail string
	// Calendar holds the school's terms and closure days, and DayStart,
	// the time its notices are due by on an open day.
	Calendar calendar.SchoolCalendar
}

// GPPractice is one GP practice and the address of its safeguarding lead.
type GPPractice struct {
	// ODSCode is the practice's NHS ODS code, such as G82001.
	ODSCode           string
	Name              string
	SafeguardingEmail string
}

// Service is the team of one kind in one local authority's area, such as
// Medway's health visiting service.
type Service struct {
	LocalAuthorityCode string
	Kind               events.RecipientKind
	Name               string
	Email              string
}

// ServiceKinds lists the contract's recipient kinds that services.csv
// provides, one service of each kind per local authority. services.csv may
// also hold the services of kinds a partnership's routing policy declares.
func ServiceKinds() []events.RecipientKind {
	return []events.RecipientKind{events.KindHealthVisiting, events.KindSchoolNursing,
		events.KindMidwifery, events.KindProbation, events.KindMARAC, events.KindIDVA,
		events.KindHomeEducation}
}

type serviceKey struct {
	localAuthority string
	kind           events.RecipientKind
}

// Set is one complete, valid version of the reference data. It never
// changes once loaded, so it is safe for concurrent use; everything it
// returns is a copy the caller may keep or change.
type Set struct {
	version          string
	localAuthorities map[string]LocalAuthority
	schools          map[string]School
	gpPractices      map[string]GPPractice
	services         map[serviceKey]Service
	holidays         calendar.Holidays
	contacts         map[recipientKey][]Contact
	webhooks         map[recipientKey]Webhook
	warnings         []Problem
}

// Warnings are what loading found odd but not wrong enough to refuse the
// data, such as a school phase Lantern does not know.
func (s *Set) Warnings() []Problem { return slices.Clone(s.warnings) }

// Version identifies the content the set was loaded from: a SHA-256 over
// every file read, written "sha256:<hex>". Events record it so that a
// decision can be traced to the reference data it was made with.
func (s *Set) Version() string { return s.version }

// LocalAuthority returns the local authority with the ONS code given.
func (s *Set) LocalAuthority(code string) (LocalAuthority, bool) {
	la, ok := s.localAuthorities[code]
	return la, ok
}

// School returns the school with the URN given.
func (s *Set) School(urn string) (School, bool) {
	school, ok := s.schools[urn]
	if !ok {
		return School{}, false
	}
	school.Calendar = copyCalendar(school.Calendar)
	return school, true
}

// GPPractice returns the GP practice with the ODS code given.
func (s *Set) GPPractice(odsCode string) (GPPractice, bool) {
	practice, ok := s.gpPractices[odsCode]
	return practice, ok
}

// Service returns the service of a kind in a local authority's area.
func (s *Set) Service(localAuthorityCode string, kind events.RecipientKind) (Service, bool) {
	service, ok := s.services[serviceKey{localAuthorityCode, kind}]
	return service, ok
}

// Holidays returns the England and Wales bank holidays.
func (s *Set) Holidays() calendar.Holidays { return maps.Clone(s.holidays) }

// LocalAuthorities returns every local authority, ordered by code.
func (s *Set) LocalAuthorities() []LocalAuthority {
	return sortedValues(s.localAuthorities, func(la LocalAuthority) string { return la.Code })
}

// Schools returns every school, ordered by URN.
func (s *Set) Schools() []School {
	schools := sortedValues(s.schools, func(school School) string { return school.URN })
	for i := range schools {
		schools[i].Calendar = copyCalendar(schools[i].Calendar)
	}
	return schools
}

// GPPractices returns every GP practice, ordered by ODS code.
func (s *Set) GPPractices() []GPPractice {
	return sortedValues(s.gpPractices, func(p GPPractice) string { return p.ODSCode })
}

// Services returns every service, ordered by local authority code and then
// kind.
func (s *Set) Services() []Service {
	return sortedValues(s.services, func(sv Service) string {
		return sv.LocalAuthorityCode + "\x00" + string(sv.Kind)
	})
}

func sortedValues[K comparable, V any](m map[K]V, key func(V) string) []V {
	values := slices.Collect(maps.Values(m))
	slices.SortFunc(values, func(a, b V) int { return cmp.Compare(key(a), key(b)) })
	return values
}

// copyCalendar copies the slice and map inside a calendar, so that callers
// cannot change the set's own.
func copyCalendar(c calendar.SchoolCalendar) calendar.SchoolCalendar {
	c.Terms = slices.Clone(c.Terms)
	c.Closed = maps.Clone(c.Closed)
	return c
}

package ppn

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// Reference is the reference data the rules consult. The refdata package
// satisfies it; tests pass a small fake.
type Reference interface {
	// KnownLocalAuthority reports whether Lantern serves the local
	// authority with this ONS code (such as E06000035).
	KnownLocalAuthority(code string) bool
}

// Limits of the rules, named so that tests and documentation can quote
// them.
const (
	// ClockSkew is how far in the future a timestamp may be: a police
	// system's clock a few minutes fast is no reason to refuse a notice.
	ClockSkew = 5 * time.Minute
	// MaxIncidentAgeYears bounds how long ago an incident may have
	// happened. A PPN follows a police-attended incident; one older than
	// this is far more likely a mistyped year than a real notice, and would
	// start SLA clocks that are already long breached.
	MaxIncidentAgeYears = 10
	// MaxAgeYears is the oldest a person can plausibly be.
	MaxAgeYears = 120
	// AdultAgeYears is the age from which a person is no longer a child.
	AdultAgeYears = 18
	// OverdueDays is how long before the incident an expected due date may
	// lie: a pregnancy can run about two weeks past its due date.
	OverdueDays = 14
	// MaxMonthsToDueDate is how long after the incident a due date may lie.
	MaxMonthsToDueDate = 10
)

// Validate applies the rules a notice must satisfy beyond its schema, given
// the reference data and the current time. It returns nil or an *Error with
// status 422 listing every broken rule. Call it on the result of Decode;
// ref must not be nil.
//
// Dates are compared in Europe/London, where every Lantern deadline runs:
// the incident's date is the London date of occurred_at.
func (in *Incident) Validate(ref Reference, now time.Time) error {
	v := ruleCheck{in: in, now: now, incidentDay: calendar.DateOf(in.OccurredAt.In(calendar.London))}
	v.localAuthority(ref)
	v.timestamps()
	for i, a := range in.Adults {
		v.adult(i, a)
	}
	for i, c := range in.Children {
		v.child(i, c)
	}
	v.uniquePersonIDs()
	if len(v.problems) > 0 {
		return newError(http.StatusUnprocessableEntity, TitleRules, v.problems)
	}
	return nil
}

type ruleCheck struct {
	in          *Incident
	now         time.Time
	incidentDay calendar.Date
	problems    []FieldProblem
}

func (v *ruleCheck) fail(pointer, detail string) {
	v.problems = append(v.problems, FieldProblem{Pointer: pointer, Detail: detail})
}

func (v *ruleCheck) localAuthority(ref Reference) {
	if !ref.KnownLocalAuthority(v.in.LocalAuthorityCode) {
		v.fail("/local_authority_code", "is not a local authority that Lantern serves")
	}
}

func (v *ruleCheck) timestamps() {
	latest := v.now.Add(ClockSkew)
	if v.in.OccurredAt.After(latest) {
		v.fail("/occurred_at", "is in the future")
	}
	if v.in.ReportedAt.After(latest) {
		v.fail("/reported_at", "is in the future")
	}
	if v.in.OccurredAt.After(v.in.ReportedAt) {
		v.fail("/occurred_at", "must not be after reported_at")
	}
	if v.in.OccurredAt.Before(v.now.AddDate(-MaxIncidentAgeYears, 0, 0)) {
		v.fail("/occurred_at", fmt.Sprintf("is more than %d years ago", MaxIncidentAgeYears))
	}
}

func (v *ruleCheck) adult(i int, a Adult) {
	at := "/adults/" + strconv.Itoa(i)
	if a.DateOfBirth != "" {
		v.birthDate(at+"/date_of_birth", a.DateOfBirth)
	}
	if a.ExpectedDueDate != "" {
		v.dueDate(at+"/expected_due_date", a)
	}
}

func (v *ruleCheck) child(i int, c Child) {
	at := "/children/" + strconv.Itoa(i)
	if dob, ok := v.birthDate(at+"/date_of_birth", c.DateOfBirth); ok && v.incidentDay.YearsSince(dob) >= AdultAgeYears {
		v.fail(at+"/date_of_birth", fmt.Sprintf("makes this person %d or over on the incident's date; list them under adults", AdultAgeYears))
	}
	if c.NHSNumber != "" && !ValidNHSNumber(c.NHSNumber) {
		v.fail(at+"/nhs_number", "fails the NHS number check digit (modulus 11)")
	}
}

// birthDate checks a date of birth against the incident's date and
// returns it when it is usable for an age.
func (v *ruleCheck) birthDate(pointer, s string) (calendar.Date, bool) {
	dob, err := calendar.ParseDate(s)
	switch {
	case err != nil:
		v.fail(pointer, "must be a calendar date written YYYY-MM-DD")
	case v.incidentDay.Before(dob):
		v.fail(pointer, "is after the incident")
	case dob.Before(yearsBefore(v.incidentDay, MaxAgeYears)):
		v.fail(pointer, fmt.Sprintf("is more than %d years before the incident", MaxAgeYears))
	default:
		return dob, true
	}
	return calendar.Date{}, false
}

func (v *ruleCheck) dueDate(pointer string, a Adult) {
	if !a.Pregnant {
		v.fail(pointer, "is only allowed when pregnant is true")
		return
	}
	due, err := calendar.ParseDate(a.ExpectedDueDate)
	if err != nil {
		v.fail(pointer, "must be a calendar date written YYYY-MM-DD")
		return
	}
	earliest := v.incidentDay.AddDays(-OverdueDays)
	latest := calendar.DateOf(v.incidentDay.In(time.UTC).AddDate(0, MaxMonthsToDueDate, 0))
	if due.Before(earliest) || latest.Before(due) {
		v.fail(pointer, fmt.Sprintf("must lie between %d days before and %d months after the incident", OverdueDays, MaxMonthsToDueDate))
	}
}

// uniquePersonIDs refuses a person_id used twice, across adults and
// children alike: recipients are told about people by this id.
func (v *ruleCheck) uniquePersonIDs() {
	first := map[string]string{}
	see := func(pointer, id string) {
		if earlier, ok := first[id]; ok {
			v.fail(pointer, "repeats the person_id at "+earlier)
			return
		}
		first[id] = pointer
	}
	for i, a := range v.in.Adults {
		see("/adults/"+strconv.Itoa(i)+"/person_id", a.PersonID)
	}
	for i, c := range v.in.Children {
		see("/children/"+strconv.Itoa(i)+"/person_id", c.PersonID)
	}
}

// yearsBefore returns the date n years before day.
func yearsBefore(day calendar.Date, n int) calendar.Date {
	return calendar.DateOf(day.In(time.UTC).AddDate(-n, 0, 0))
}

// ValidNHSNumber reports whether s is ten digits whose last is the
// modulus 11 check digit of the first nine (weights 10 down to 2). A
// remainder that gives a check digit of 10 means no valid number exists.
func ValidNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := range 10 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(s[i]-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(s[9]-'0')
}

package refdata

import (
	"fmt"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
)

// The columns of each CSV file, in the order contract.md section 3 fixes,
// with a constant naming each column's position.
var (
	localAuthorityColumns = []string{"code", "name", "mash_email", "mash_hours", "early_years_opt_in"}
	schoolColumns         = []string{"urn", "name", "local_authority_code", "phase", "dsl_email", "day_start", "calendar_id"}
	gpPracticeColumns     = []string{"ods_code", "name", "safeguarding_email"}
	serviceColumns        = []string{"local_authority_code", "kind", "name", "email"}
)

const (
	laCode = iota
	laName
	laMASHEmail
	laMASHHours
	laEarlyYearsOptIn
)

const (
	schoolURN = iota
	schoolName
	schoolLocalAuthority
	schoolPhase
	schoolDSLEmail
	schoolDayStart
	schoolCalendarID
)

const (
	gpODSCode = iota
	gpName
	gpSafeguardingEmail
)

const (
	serviceLocalAuthority = iota
	serviceKind
	serviceName
	serviceEmail
)

// Load reads and checks every file of the reference data folder dir. If any
// file has problems it returns a *LoadError listing all of them and no set.
func Load(dir string) (*Set, error) {
	snap, err := readSnapshot(dir)
	if err != nil {
		return nil, err
	}
	return build(snap)
}

// loader gathers the problems of one snapshot while it builds the set.
type loader struct {
	snap     snapshot
	set      *Set
	problems []Problem
	// warnings are problems that do not stop the set being used.
	warnings []Problem
	// calendars holds every calendar file found, by id, valid or not.
	calendars map[string]calendar.SchoolCalendar
	// keyLines remembers the line each key was first seen on, per file, so
	// that a duplicate can name the line it repeats.
	keyLines map[string]map[string]int
	// localAuthoritiesComplete is false when local_authorities.csv could
	// not be read in full, so other files' codes are not checked against it.
	localAuthoritiesComplete bool
}

func build(snap snapshot) (*Set, error) {
	l := &loader{
		snap: snap,
		set: &Set{
			version:          snap.version,
			localAuthorities: map[string]LocalAuthority{},
			schools:          map[string]School{},
			gpPractices:      map[string]GPPractice{},
			services:         map[serviceKey]Service{},
			holidays:         calendar.Holidays{},
			contacts:         map[recipientKey][]Contact{},
			webhooks:         map[recipientKey]Webhook{},
		},
		calendars: map[string]calendar.SchoolCalendar{},
		keyLines:  map[string]map[string]int{},
	}
	l.loadBankHolidays()
	l.loadCalendars()
	l.loadLocalAuthorities()
	l.loadSchools()
	l.loadGPPractices()
	l.loadServices()
	l.loadContacts()
	l.loadWebhooks()
	if len(l.problems) > 0 {
		sortProblems(l.problems)
		return nil, &LoadError{Problems: l.problems}
	}
	sortProblems(l.warnings)
	l.set.warnings = l.warnings
	return l.set, nil
}

func (l *loader) add(p Problem) { l.problems = append(l.problems, p) }

func (l *loader) fileProblem(file, message string) {
	l.add(Problem{File: file, Message: message})
}

// claimKey records that a row uses key in its file and reports a row that
// repeats a key already used.
func (l *loader) claimKey(c rowCheck, col int, key, what string) bool {
	lines := l.keyLines[c.file]
	if lines == nil {
		lines = map[string]int{}
		l.keyLines[c.file] = lines
	}
	if first, taken := lines[key]; taken {
		c.problemf(col, "%s is already listed on line %d", what, first)
		return false
	}
	lines[key] = c.line()
	return true
}

// eachRow hands each row of file, read with its columns, to read, and
// reports whether the whole file could be read.
func (l *loader) eachRow(file string, columns []string, read func(c rowCheck)) (complete bool) {
	rows, complete := l.readTable(file, columns)
	for _, row := range rows {
		read(l.rowCheck(file, columns, row))
	}
	return complete
}

// eachOptionalRow is eachRow for a file the reference data may leave out:
// without it there is nothing to read and nothing to report.
func (l *loader) eachOptionalRow(file string, columns []string, read func(c rowCheck)) {
	if _, ok := l.snap.files[file]; ok {
		l.eachRow(file, columns, read)
	}
}

// keep stores v in m under key, read from column col, unless the key is
// missing or repeats one already listed; what names the key in that
// problem, with a %q for the key.
func keep[V any](l *loader, c rowCheck, col int, m map[string]V, key, what string, v V) {
	if key != "" && l.claimKey(c, col, key, fmt.Sprintf(what, key)) {
		m[key] = v
	}
}

func (l *loader) loadLocalAuthorities() {
	l.localAuthoritiesComplete = l.eachRow(fileLocalAuthorities, localAuthorityColumns, func(c rowCheck) {
		la := LocalAuthority{
			Code:            parsed(c, laCode, parseLocalAuthorityCode),
			Name:            c.required(laName),
			MASHEmail:       parsed(c, laMASHEmail, parseEmail),
			MASHHours:       parsed(c, laMASHHours, calendar.ParseOpeningHours),
			EarlyYearsOptIn: parsed(c, laEarlyYearsOptIn, parseBool),
		}
		keep(l, c, laCode, l.set.localAuthorities, la.Code, "code %q", la)
	})
}

func (l *loader) loadSchools() {
	l.eachRow(fileSchools, schoolColumns, func(c rowCheck) {
		school := School{
			URN:                parsed(c, schoolURN, parseURN),
			Name:               c.required(schoolName),
			LocalAuthorityCode: l.localAuthorityRef(c, schoolLocalAuthority),
			Phase:              c.phase(schoolPhase),
			DSLEmail:           parsed(c, schoolDSLEmail, parseEmail),
		}
		dayStart := parsed(c, schoolDayStart, parseTimeOfDay)
		school.Calendar = l.calendarRef(c, schoolCalendarID)
		school.Calendar.DayStart = dayStart
		keep(l, c, schoolURN, l.set.schools, school.URN, "URN %q", school)
	})
}

// phase reads a school's phase. The register's free text may hold words
// Lantern does not know; that is a warning, since nothing is routed on the
// phase alone and a partnership's data must not stop the pipeline.
func (c rowCheck) phase(col int) Phase {
	v := c.row.fields[col]
	phase, ok := ParsePhase(v)
	if !ok {
		c.l.warnings = append(c.l.warnings, Problem{File: c.file, Line: c.row.lines[col], Field: c.columns[col],
			Message: fmt.Sprintf("%q is not a phase Lantern knows, so the school's phase is unknown; "+
				"use an education.type word (school, fe, sixteen_to_nineteen, early_years) or a GIAS PhaseOfEducation name", v)})
	}
	return phase
}

// localAuthorityRef reads a local authority code that must be in
// local_authorities.csv.
func (l *loader) localAuthorityRef(c rowCheck, col int) string {
	code := parsed(c, col, parseLocalAuthorityCode)
	if code == "" || !l.localAuthoritiesComplete {
		return code
	}
	if _, ok := l.set.localAuthorities[code]; !ok {
		c.problemf(col, "no local authority has code %q in %s", code, fileLocalAuthorities)
	}
	return code
}

// calendarRef reads a calendar id that must have a calendars/<id>.json file.
func (l *loader) calendarRef(c rowCheck, col int) calendar.SchoolCalendar {
	id := parsed(c, col, parseCalendarID)
	if id == "" || l.snap.calendarsMissing {
		return calendar.SchoolCalendar{ID: id}
	}
	cal, ok := l.calendars[id]
	if !ok {
		c.problemf(col, "no calendar file %s/%s.json", dirCalendars, id)
		return calendar.SchoolCalendar{ID: id}
	}
	return copyCalendar(cal)
}

func (l *loader) loadGPPractices() {
	l.eachRow(fileGPPractices, gpPracticeColumns, func(c rowCheck) {
		practice := GPPractice{
			ODSCode:           parsed(c, gpODSCode, parseODSCode),
			Name:              c.required(gpName),
			SafeguardingEmail: parsed(c, gpSafeguardingEmail, parseEmail),
		}
		keep(l, c, gpODSCode, l.set.gpPractices, practice.ODSCode, "ODS code %q", practice)
	})
}

func (l *loader) loadServices() {
	l.eachRow(fileServices, serviceColumns, func(c rowCheck) {
		service := Service{
			LocalAuthorityCode: l.localAuthorityRef(c, serviceLocalAuthority),
			Kind:               parsed(c, serviceKind, parseServiceKind),
			Name:               c.required(serviceName),
			Email:              parsed(c, serviceEmail, parseEmail),
		}
		if service.LocalAuthorityCode == "" || service.Kind == "" {
			return
		}
		key := serviceKey{service.LocalAuthorityCode, service.Kind}
		what := fmt.Sprintf("the %s service of %s", service.Kind, service.LocalAuthorityCode)
		if l.claimKey(c, serviceKind, key.localAuthority+" "+string(key.kind), what) {
			l.set.services[key] = service
		}
	})
}

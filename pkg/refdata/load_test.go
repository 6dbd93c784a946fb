package refdata_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

const (
	laHeader      = "code,name,mash_email,mash_hours,early_years_opt_in\n"
	laRow         = "E06000035,Medway Council,mash@medway.lantern.test,Mon-Fri 09:00-17:00,false\n"
	schoolHeader  = "urn,name,local_authority_code,phase,dsl_email,day_start,calendar_id\n"
	schoolRow     = "118234,Chatham Hill Primary School,E06000035,primary,dsl@chathamhill.lantern.test,08:40,medway-standard\n"
	gpHeader      = "ods_code,name,safeguarding_email\n"
	gpRow         = "G82001,Chatham Maritime Medical Practice,safeguarding.g82001@nhs.lantern.test\n"
	serviceHeader = "local_authority_code,kind,name,email\n"
	serviceRow    = "E06000035,midwifery,Medway Maternity Safeguarding Team,maternity@medway.lantern.test\n"
	calendarFile  = "calendars/medway-standard.json"
)

// calendarJSON writes a calendar file in the layout of validFolder's, so
// that terms are on lines 4 and 5 and closed days on line 7.
func calendarJSON(timezone, term1, term2, closed string) string {
	return "{\n" +
		`  "timezone": ` + timezone + ",\n" +
		`  "terms": [` + "\n" +
		"    " + term1 + ",\n" +
		"    " + term2 + "\n" +
		"  ],\n" +
		`  "closed": [` + closed + "]\n" +
		"}\n"
}

const (
	autumn1 = `{"start": "2026-09-01", "end": "2026-10-23"}`
	autumn2 = `{"start": "2026-11-02", "end": "2026-12-18"}`
)

func TestLoadReportsEveryProblemWithItsPlace(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string]string
		want  []refdata.Problem
	}{
		{
			name: "day start is not a time",
			files: withFiles(map[string]string{"schools.csv": schoolHeader +
				"118234,Chatham Hill Primary School,E06000035,primary,dsl@chathamhill.lantern.test,8.30,medway-standard\n"}),
			want: []refdata.Problem{{File: "schools.csv", Line: 2, Field: "day_start",
				Message: `"8.30" is not a valid HH:MM time`}},
		},
		{
			name: "header lacks a column",
			files: withFiles(map[string]string{"schools.csv": "urn,name,local_authority_code,dsl_email,day_start,calendar_id\n" +
				"118234,Chatham Hill Primary School,E06000035,dsl@chathamhill.lantern.test,08:40,medway-standard\n"}),
			want: []refdata.Problem{{File: "schools.csv", Line: 1, Field: "phase",
				Message: "column is missing; want urn,name,local_authority_code,phase,dsl_email,day_start,calendar_id"}},
		},
		{
			name: "header has an extra column, so no school is checked against the local authorities",
			files: withFiles(map[string]string{"local_authorities.csv": strings.TrimSuffix(laHeader, "\n") + ",region\n" +
				strings.TrimSuffix(laRow, "\n") + ",South East\n"}),
			want: []refdata.Problem{{File: "local_authorities.csv", Line: 1, Field: "region",
				Message: "unexpected column; want code,name,mash_email,mash_hours,early_years_opt_in"}},
		},
		{
			name: "header columns out of order",
			files: withFiles(map[string]string{"gp_practices.csv": "name,ods_code,safeguarding_email\n" +
				"Chatham Maritime Medical Practice,G82001,safeguarding.g82001@nhs.lantern.test\n"}),
			want: []refdata.Problem{{File: "gp_practices.csv", Line: 1,
				Message: "columns are out of order: got name,ods_code,safeguarding_email, want ods_code,name,safeguarding_email"}},
		},
		{
			name:  "header has a column without a name",
			files: withFiles(map[string]string{"gp_practices.csv": "ods_code,name,safeguarding_email,\n" + gpRow}),
			want: []refdata.Problem{{File: "gp_practices.csv", Line: 1,
				Message: "column 4 has no name; want ods_code,name,safeguarding_email"}},
		},
		{
			name:  "header repeats a column",
			files: withFiles(map[string]string{"gp_practices.csv": "ods_code,name,name\n" + gpRow}),
			want: []refdata.Problem{
				{File: "gp_practices.csv", Line: 1, Field: "name", Message: "column appears more than once"},
				{File: "gp_practices.csv", Line: 1, Field: "safeguarding_email", Message: "column is missing; want ods_code,name,safeguarding_email"},
			},
		},
		{
			name: "required value is empty",
			files: withFiles(map[string]string{"local_authorities.csv": laHeader +
				"E06000035, ,mash@medway.lantern.test,Mon-Fri 09:00-17:00,false\n"}),
			want: []refdata.Problem{{File: "local_authorities.csv", Line: 2, Field: "name", Message: "a value is required"}},
		},
		{
			name: "email is not plausible",
			files: withFiles(map[string]string{"gp_practices.csv": gpHeader +
				"G82001,Chatham Maritime Medical Practice,safeguarding at g82001\n"}),
			want: []refdata.Problem{{File: "gp_practices.csv", Line: 2, Field: "safeguarding_email",
				Message: `"safeguarding at g82001" is not a plausible email address`}},
		},
		{
			name: "email has a display name",
			files: withFiles(map[string]string{"local_authorities.csv": laHeader +
				`E06000035,Medway Council,"Medway MASH <mash@medway.lantern.test>",Mon-Fri 09:00-17:00,false` + "\n"}),
			want: []refdata.Problem{{File: "local_authorities.csv", Line: 2, Field: "mash_email",
				Message: `"Medway MASH <mash@medway.lantern.test>" is not a plausible email address`}},
		},
		{
			name:  "URN repeated",
			files: withFiles(map[string]string{"schools.csv": schoolHeader + schoolRow + schoolRow}),
			want: []refdata.Problem{{File: "schools.csv", Line: 3, Field: "urn",
				Message: `URN "118234" is already listed on line 2`}},
		},
		{
			name: "URN has the wrong shape",
			files: withFiles(map[string]string{"schools.csv": schoolHeader +
				"11823,Chatham Hill Primary School,E06000035,primary,dsl@chathamhill.lantern.test,08:40,medway-standard\n"}),
			want: []refdata.Problem{{File: "schools.csv", Line: 2, Field: "urn",
				Message: `"11823" is not a URN: want 6 or 7 digits, or EY and 6 digits`}},
		},
		{
			name: "school in an unknown local authority",
			files: withFiles(map[string]string{"schools.csv": schoolHeader +
				"118234,Chatham Hill Primary School,E06000099,primary,dsl@chathamhill.lantern.test,08:40,medway-standard\n"}),
			want: []refdata.Problem{{File: "schools.csv", Line: 2, Field: "local_authority_code",
				Message: `no local authority has code "E06000099" in local_authorities.csv`}},
		},
		{
			name: "school's calendar has no file",
			files: withFiles(map[string]string{"schools.csv": schoolHeader +
				"118234,Chatham Hill Primary School,E06000035,primary,dsl@chathamhill.lantern.test,08:40,kent-standard\n"}),
			want: []refdata.Problem{{File: "schools.csv", Line: 2, Field: "calendar_id",
				Message: "no calendar file calendars/kent-standard.json"}},
		},
		{
			name: "school's calendar id could escape the folder",
			files: withFiles(map[string]string{"schools.csv": schoolHeader +
				"118234,Chatham Hill Primary School,E06000035,primary,dsl@chathamhill.lantern.test,08:40,../medway\n"}),
			want: []refdata.Problem{{File: "schools.csv", Line: 2, Field: "calendar_id",
				Message: `"../medway" is not a calendar id: use up to 64 lower-case letters, digits, '-' and '_'`}},
		},
		{
			name: "every bad field of a row is reported",
			files: withFiles(map[string]string{"schools.csv": schoolHeader +
				"118234,,E0600003,primary,dsl,8:40,medway-standard\n"}),
			want: []refdata.Problem{
				{File: "schools.csv", Line: 2, Field: "name", Message: "a value is required"},
				{File: "schools.csv", Line: 2, Field: "local_authority_code", Message: `"E0600003" is not an ONS local authority code like E06000035`},
				{File: "schools.csv", Line: 2, Field: "dsl_email", Message: `"dsl" is not a plausible email address`},
				{File: "schools.csv", Line: 2, Field: "day_start", Message: `"8:40" is not a valid HH:MM time`},
			},
		},
		{
			name: "service kind not allowed",
			files: withFiles(map[string]string{"services.csv": serviceHeader +
				"E06000035,school,Medway Children's Services,csc@medway.lantern.test\n" +
				"E06000035,Social Care,Medway Children's Services,csc@medway.lantern.test\n"}),
			want: []refdata.Problem{{File: "services.csv", Line: 2, Field: "kind",
				Message: `"school" is not a service kind; want one of health_visiting, school_nursing, midwifery, probation, marac, idva, home_education, or a kind the routing policy declares (lowercase words joined by _)`},
				{File: "services.csv", Line: 3, Field: "kind",
					Message: `"Social Care" is not a service kind; want one of health_visiting, school_nursing, midwifery, probation, marac, idva, home_education, or a kind the routing policy declares (lowercase words joined by _)`}},
		},
		{
			name:  "service repeated for one local authority",
			files: withFiles(map[string]string{"services.csv": serviceHeader + serviceRow + serviceRow}),
			want: []refdata.Problem{{File: "services.csv", Line: 3, Field: "kind",
				Message: "the midwifery service of E06000035 is already listed on line 2"}},
		},
		{
			name: "service in an unknown local authority",
			files: withFiles(map[string]string{"services.csv": serviceHeader +
				"E10000016,midwifery,Kent Maternity Safeguarding Team,maternity@kent.lantern.test\n"}),
			want: []refdata.Problem{{File: "services.csv", Line: 2, Field: "local_authority_code",
				Message: `no local authority has code "E10000016" in local_authorities.csv`}},
		},
		{
			name: "MASH hours unreadable",
			files: withFiles(map[string]string{"local_authorities.csv": laHeader +
				"E06000035,Medway Council,mash@medway.lantern.test,Mon-Fri 9-5,false\n"}),
			want: []refdata.Problem{{File: "local_authorities.csv", Line: 2, Field: "mash_hours",
				Message: `opening hours "Mon-Fri 9-5": opening time "9" is not a valid HH:MM time`}},
		},
		{
			name: "early years opt-in is not true or false",
			files: withFiles(map[string]string{"local_authorities.csv": laHeader +
				"E06000035,Medway Council,mash@medway.lantern.test,Mon-Fri 09:00-17:00,yes\n"}),
			want: []refdata.Problem{{File: "local_authorities.csv", Line: 2, Field: "early_years_opt_in",
				Message: `"yes" is not true or false`}},
		},
		{
			name: "local authority code repeated",
			files: withFiles(map[string]string{"local_authorities.csv": laHeader + laRow +
				"E06000035,Medway,mash2@medway.lantern.test,Mon-Fri 09:00-17:00,true\n"}),
			want: []refdata.Problem{{File: "local_authorities.csv", Line: 3, Field: "code",
				Message: `code "E06000035" is already listed on line 2`}},
		},
		{
			name: "ODS code has the wrong shape and repeats",
			files: withFiles(map[string]string{"gp_practices.csv": gpHeader + gpRow +
				"G8201,Strood Riverside Surgery,safeguarding.g82045@nhs.lantern.test\n" + gpRow}),
			want: []refdata.Problem{
				{File: "gp_practices.csv", Line: 3, Field: "ods_code", Message: `"G8201" is not a GP practice ODS code like G82001`},
				{File: "gp_practices.csv", Line: 4, Field: "ods_code", Message: `ODS code "G82001" is already listed on line 2`},
			},
		},
		{
			name: "row has too few fields",
			files: withFiles(map[string]string{"schools.csv": schoolHeader +
				"118234,Chatham Hill Primary School,E06000035,primary,dsl@chathamhill.lantern.test,08:40\n"}),
			want: []refdata.Problem{{File: "schools.csv", Line: 2, Message: "has 6 fields, want 7"}},
		},
		{
			name: "quote inside an unquoted field",
			files: withFiles(map[string]string{"gp_practices.csv": gpHeader + gpRow +
				`G82045,Strood "Riverside" Surgery,safeguarding.g82045@nhs.lantern.test` + "\n"}),
			want: []refdata.Problem{{File: "gp_practices.csv", Line: 3,
				Message: `is not valid CSV: bare " in non-quoted-field`}},
		},
		{
			name: "line numbers count the lines inside a quoted field",
			files: withFiles(map[string]string{"gp_practices.csv": gpHeader +
				"G82001,\"Chatham Maritime\nMedical Practice\",safeguarding.g82001@nhs.lantern.test\n" +
				"G82045,Strood Riverside Surgery,\n"}),
			want: []refdata.Problem{{File: "gp_practices.csv", Line: 4, Field: "safeguarding_email",
				Message: "a value is required"}},
		},
		{
			name:  "file missing",
			files: without("gp_practices.csv"),
			want:  []refdata.Problem{{File: "gp_practices.csv", Message: "file is missing"}},
		},
		{
			name:  "file empty",
			files: withFiles(map[string]string{"services.csv": ""}),
			want: []refdata.Problem{{File: "services.csv",
				Message: "file is empty; want the header row local_authority_code,kind,name,email"}},
		},
		{
			name: "calendar in another time zone",
			files: withFiles(map[string]string{calendarFile: calendarJSON(`"Europe/Paris"`, autumn1, autumn2,
				`"2026-09-01"`)}),
			want: []refdata.Problem{{File: calendarFile, Line: 2, Field: "timezone",
				Message: `"Europe/Paris" is not allowed; want "Europe/London"`}},
		},
		{
			name: "calendar terms overlap",
			files: withFiles(map[string]string{calendarFile: calendarJSON(`"Europe/London"`, autumn1,
				`{"start": "2026-10-20", "end": "2026-12-18"}`, `"2026-09-01"`)}),
			want: []refdata.Problem{{File: calendarFile, Line: 5, Field: "terms[1].start",
				Message: "term starts on 2026-10-20, before the previous term ends on 2026-10-23; terms must be in order and must not overlap"}},
		},
		{
			name: "calendar terms out of order",
			files: withFiles(map[string]string{calendarFile: calendarJSON(`"Europe/London"`, autumn2, autumn1,
				`"2026-09-01"`)}),
			want: []refdata.Problem{{File: calendarFile, Line: 5, Field: "terms[1].start",
				Message: "term starts on 2026-09-01, before the previous term ends on 2026-12-18; terms must be in order and must not overlap"}},
		},
		{
			name: "calendar term ends before it starts",
			files: withFiles(map[string]string{calendarFile: calendarJSON(`"Europe/London"`,
				`{"start": "2026-10-23", "end": "2026-09-01"}`, autumn2, `"2026-11-02"`)}),
			want: []refdata.Problem{{File: calendarFile, Line: 4, Field: "terms[0].end",
				Message: "term ends on 2026-09-01, before it starts on 2026-10-23"}},
		},
		{
			name: "calendar term lacks its end",
			files: withFiles(map[string]string{calendarFile: calendarJSON(`"Europe/London"`,
				`{"start": "2026-09-01"}`, autumn2, `"2026-11-02"`)}),
			want: []refdata.Problem{{File: calendarFile, Line: 4, Field: "terms[0].end", Message: "a value is required"}},
		},
		{
			name: "closed days outside term, repeated and impossible",
			files: withFiles(map[string]string{calendarFile: calendarJSON(`"Europe/London"`, autumn1, autumn2,
				`"2026-10-26", "2026-09-01", "2026-09-01", "2026-02-30"`)}),
			want: []refdata.Problem{
				{File: calendarFile, Line: 7, Field: "closed[0]", Message: "2026-10-26 is not inside any term"},
				{File: calendarFile, Line: 7, Field: "closed[2]", Message: "2026-09-01 is listed more than once"},
				{File: calendarFile, Line: 7, Field: "closed[3]", Message: `"2026-02-30" is not a valid YYYY-MM-DD date`},
			},
		},
		{
			name: "calendar has an unknown field",
			files: withFiles(map[string]string{calendarFile: "{\n" +
				`  "timezone": "Europe/London",` + "\n" +
				`  "terms": [` + autumn1 + "],\n" +
				`  "close": ["2026-09-01"]` + "\n}\n"}),
			want: []refdata.Problem{{File: calendarFile, Line: 4, Field: "close", Message: "unknown field"}},
		},
		{
			name: "calendar field of the wrong type",
			files: withFiles(map[string]string{calendarFile: "{\n" +
				`  "timezone": "Europe/London",` + "\n" +
				`  "terms": "autumn"` + "\n}\n"}),
			want: []refdata.Problem{{File: calendarFile, Line: 3, Field: "terms", Message: "want a list, got a string"}},
		},
		{
			name: "calendar is not valid JSON",
			files: withFiles(map[string]string{calendarFile: "{\n" +
				`  "timezone": "Europe/London",` + "\n" +
				`  "terms": [` + autumn1 + ",]\n}\n"}),
			want: []refdata.Problem{{File: calendarFile, Line: 3, Field: "terms",
				Message: "is not valid JSON: invalid character ',' at start of value"}},
		},
		{
			name:  "calendar without terms",
			files: withFiles(map[string]string{calendarFile: `{"timezone": "Europe/London", "terms": []}`}),
			want:  []refdata.Problem{{File: calendarFile, Line: 1, Field: "terms", Message: "at least one term is required"}},
		},
		{
			name: "calendar file name is not an id",
			files: withFiles(map[string]string{"calendars/Medway Standard.json": calendarJSON(`"Europe/London"`,
				autumn1, autumn2, "")}),
			want: []refdata.Problem{{File: "calendars/Medway Standard.json",
				Message: `file name: "Medway Standard" is not a calendar id: use up to 64 lower-case letters, digits, '-' and '_'`}},
		},
		{
			name:  "calendars folder missing, reported once",
			files: without(calendarFile),
			want:  []refdata.Problem{{File: "calendars/", Message: "folder is missing"}},
		},
		{
			name:  "bank holidays without England and Wales",
			files: withFiles(map[string]string{"bank-holidays.json": `{"scotland": {"division": "scotland", "events": []}}`}),
			want:  []refdata.Problem{{File: "bank-holidays.json", Field: "england-and-wales", Message: "division is missing"}},
		},
		{
			name: "bank holiday dates impossible or repeated",
			files: withFiles(map[string]string{"bank-holidays.json": `{
  "england-and-wales": {
    "division": "england-and-wales",
    "events": [
      {"title": "Christmas Day", "date": "2026-12-25", "notes": "", "bunting": true},
      {"title": "Boxing Day", "date": "28/12/2026", "notes": "Substitute day", "bunting": true},
      {"title": "Christmas Day", "date": "2026-12-25", "notes": "", "bunting": true}
    ]
  }
}
`}),
			want: []refdata.Problem{
				{File: "bank-holidays.json", Line: 6, Field: "england-and-wales.events[1].date",
					Message: `"28/12/2026" is not a valid YYYY-MM-DD date`},
				{File: "bank-holidays.json", Line: 7, Field: "england-and-wales.events[2].date",
					Message: "2026-12-25 is listed more than once"},
			},
		},
		{
			name: "problems in several files are all reported, in file order",
			files: withFiles(map[string]string{
				"services.csv": serviceHeader + "E06000035,idva,Medway IDVA Service,idva\n",
				"schools.csv": schoolHeader +
					"118234,Chatham Hill Primary School,E06000035,primary,dsl@chathamhill.lantern.test,8.30,medway-standard\n",
				calendarFile: calendarJSON(`"UTC"`, autumn1, autumn2, `"2026-09-01"`),
			}),
			want: []refdata.Problem{
				{File: calendarFile, Line: 2, Field: "timezone", Message: `"UTC" is not allowed; want "Europe/London"`},
				{File: "schools.csv", Line: 2, Field: "day_start", Message: `"8.30" is not a valid HH:MM time`},
				{File: "services.csv", Line: 2, Field: "email", Message: `"idva" is not a plausible email address`},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set, err := refdata.Load(writeFolder(t, tc.files))
			var loadErr *refdata.LoadError
			if !errors.As(err, &loadErr) {
				t.Fatalf("Load() = %v, %v; want a *LoadError", set, err)
			}
			if set != nil {
				t.Errorf("Load() returned a set along with its problems")
			}
			if diff := cmp.Diff(tc.want, loadErr.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrorNamesFileLineAndField(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, withFiles(map[string]string{
		"schools.csv": schoolHeader + schoolRow + schoolRow +
			"118235,Chatham Hill Infant School,E06000035,primary,dsl@chathamhill.lantern.test,8.30,medway-standard\n",
	}))
	_, err := refdata.Load(dir)
	if err == nil {
		t.Fatal("Load() succeeded, want an error")
	}
	want := "reference data has 2 problems:\n" +
		`  schools.csv line 3, field urn: URN "118234" is already listed on line 2` + "\n" +
		`  schools.csv line 4, field day_start: "8.30" is not a valid HH:MM time`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error text (-want +got):\n%s", diff)
	}
}

func TestProblemLocationLeavesOutTheValue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		problem refdata.Problem
		want    string
	}{
		{refdata.Problem{File: "schools.csv", Line: 4, Field: "dsl_email", Message: `"j.smith" is not a plausible email address`},
			"schools.csv line 4, field dsl_email"},
		{refdata.Problem{File: "bank-holidays.json", Field: "england-and-wales", Message: "division is missing"},
			"bank-holidays.json field england-and-wales"},
		{refdata.Problem{File: "schools.csv", Line: 2, Message: "has 6 fields, want 7"}, "schools.csv line 2"},
		{refdata.Problem{File: "services.csv", Message: "file is missing"}, "services.csv"},
	}
	for _, tc := range cases {
		if got := tc.problem.Location(); got != tc.want {
			t.Errorf("%+v.Location() = %q, want %q", tc.problem, got, tc.want)
		}
	}
}

// TestLoadAcceptsSpreadsheetExports shows that a byte order mark, quoted
// fields with commas, spaces around values, TRUE in capitals, Windows line
// ends and blank lines are all read as meant.
func TestLoadAcceptsSpreadsheetExports(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, withFiles(map[string]string{
		"local_authorities.csv": "\uFEFF" + strings.ReplaceAll(laHeader, "\n", "\r\n") +
			"E06000035, \"Medway Council, Children's Services\",mash@medway.lantern.test, mon-fri 09:00-17:00 ,TRUE\r\n\r\n",
		calendarFile: "\uFEFF" + calendarJSON(`"Europe/London"`, autumn1, autumn2, ""),
	}))
	set, err := refdata.Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checkLocalAuthority(t, set, refdata.LocalAuthority{Code: "E06000035", Name: "Medway Council, Children's Services",
		MASHEmail: "mash@medway.lantern.test", MASHHours: mustHours(t, "mon-fri 09:00-17:00"), EarlyYearsOptIn: true})
}

func TestVersionFollowsTheContentOfTheFilesRead(t *testing.T) {
	t.Parallel()
	load := func(files map[string]string) string {
		t.Helper()
		set, err := refdata.Load(writeFolder(t, files))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		return set.Version()
	}
	base := load(validFolder())
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Errorf("Version() = %q, want sha256: and 64 hex digits", base)
	}
	cases := []struct {
		name     string
		files    map[string]string
		wantSame bool
	}{
		{"same content in another folder", validFolder(), true},
		{"a file Lantern does not read", withFiles(map[string]string{"README.md": "notes", "calendars/notes.txt": "x"}), true},
		{"one school renamed", withFiles(map[string]string{"schools.csv": strings.Replace(schoolHeader+schoolRow, "Chatham Hill", "Chatham Hills", 1)}), false},
		{"an extra calendar", withFiles(map[string]string{"calendars/kent-standard.json": calendarJSON(`"Europe/London"`, autumn1, autumn2, "")}), false},
	}
	for _, tc := range cases {
		got := load(tc.files)
		if (got == base) != tc.wantSame {
			t.Errorf("%s: Version() = %q, base %q; want same = %t", tc.name, got, base, tc.wantSame)
		}
	}
}

func TestLoadRefusesAFolderThatIsNotThere(t *testing.T) {
	t.Parallel()
	missing := t.TempDir() + "/nothing-here"
	set, err := refdata.Load(missing)
	if err == nil {
		t.Fatalf("Load(%s) = %v, want an error", missing, set)
	}
	var loadErr *refdata.LoadError
	if errors.As(err, &loadErr) {
		t.Errorf("Load(%s) error is a *LoadError, want the folder's own error: %v", missing, err)
	}
}

func TestSchoolPhasesTakeTheNoticesAndTheRegistersWordsAndOnlyWarn(t *testing.T) {
	words := []struct {
		urn, phase string
		want       refdata.Phase
	}{
		{"100001", "fe", refdata.PhaseFurtherEducation},
		{"100002", "sixteen_to_nineteen", refdata.PhaseSixteenToNineteen},
		{"100003", "school", refdata.PhaseSchool},
		{"100004", "early_years", refdata.PhaseNursery},
		{"100005", "Nursery", refdata.PhaseNursery},
		{"100006", "PRIMARY", refdata.PhasePrimary},
		{"100007", "Middle deemed primary", refdata.PhaseMiddle},
		{"100008", "Secondary", refdata.PhaseSecondary},
		{"100009", "middle deemed secondary", refdata.PhaseMiddle},
		{"100010", "16 plus", refdata.PhaseSixteenToNineteen},
		{"100011", "All-through", refdata.PhaseAllThrough},
		{"100012", "Not applicable", refdata.PhaseNotApplicable},
		{"100013", "further_education", refdata.PhaseFurtherEducation},
		{"100014", "infant", refdata.PhaseUnknown},
	}
	csv := schoolHeader
	for _, w := range words {
		csv += w.urn + ",Example School," + "E06000035," + w.phase + ",dsl@example.lantern.test,08:40,medway-standard\n"
	}
	set, err := refdata.Load(writeFolder(t, withFiles(map[string]string{"schools.csv": csv})))
	if err != nil {
		t.Fatalf("a folder with every phase word was refused: %v", err)
	}
	for _, w := range words {
		if s, _ := set.School(w.urn); s.Phase != w.want {
			t.Errorf("phase %q read as %q, want %q", w.phase, s.Phase, w.want)
		}
	}
	want := []refdata.Problem{{File: "schools.csv", Line: 15, Field: "phase",
		Message: `"infant" is not a phase Lantern knows, so the school's phase is unknown; use an education.type word (school, fe, sixteen_to_nineteen, early_years) or a GIAS PhaseOfEducation name`}}
	if diff := cmp.Diff(want, set.Warnings()); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

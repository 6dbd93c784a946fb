package ppn_test

import (
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

func intPtr(n int) *int { return &n }

func TestDecodeSample(t *testing.T) {
	t.Parallel()
	want := &ppn.Incident{
		ForceCode:               "KENT",
		PoliceReference:         "KNT-26-112233",
		OccurredAt:              time.Date(2026, 11, 20, 22, 15, 0, 0, time.UTC),
		ReportedAt:              time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC),
		LocalAuthorityCode:      "E06000035",
		Location:                &ppn.Location{Postcode: "ME4 4TR", Description: "family home"},
		DASH:                    ppn.DASH{Level: ppn.DASHHigh, YesCount: intPtr(15)},
		IncidentsSameParties12m: 2,
		Adults: []ppn.Adult{
			{
				PersonID: "P-1", Role: ppn.RoleVictim, Name: "Jane Doe", DateOfBirth: "1994-03-02",
				Pregnant: true, ExpectedDueDate: "2027-02-10", GPODSCode: "G82001",
			},
			{
				PersonID: "P-2", Role: ppn.RolePerpetrator, Name: "John Roe", DateOfBirth: "1990-07-15",
				OnProbation: true, MAPPALevel: intPtr(0),
			},
		},
		Children: []ppn.Child{{
			PersonID: "C-1", Name: "Amy Doe", DateOfBirth: "2019-05-01", Present: true,
			VoiceOfChild: "said she hid upstairs",
			Education:    &ppn.Education{Type: ppn.EducationSchool, URN: "118234"},
			GPODSCode:    "G82001", NHSNumber: "9434765919",
		}},
		Circumstances: "free text, for the MASH only",
		Officer:       &ppn.Officer{ID: "KNT-4411", Name: "PC Smith", Contact: "01622 000000"},
	}

	got := mustDecode(t, sample(t))

	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode(sample) mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(medway, now); err != nil {
		t.Errorf("Validate(sample) = %v, want nil", err)
	}
}

// TestDecodeMalformed covers the bodies refused with 400 (reliability plan
// B2 to B7): each names the exact place at fault.
func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	deepArrays := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	cases := []refusalCase{
		// B2: nesting.
		{"B2 100000 nested arrays", deepArrays, refusal{400, []string{strings.Repeat("/0", 32)}}},
		{"B2 33 nested arrays", strings.Repeat("[", 33) + strings.Repeat("]", 33), refusal{400, []string{strings.Repeat("/0", 32)}}},
		{"B2 nested inside a field", edit(t, `"circumstances": "free text, for the MASH only"`, `"circumstances": `+strings.Repeat("[", 40)+strings.Repeat("]", 40)),
			refusal{400, []string{"/circumstances" + strings.Repeat("/0", 31)}}},

		// B3: encoding.
		{"B3 invalid UTF-8 byte", edit(t, `"Amy Doe"`, "\"Amy \xff Doe\""), refusal{400, []string{"/children/0/name"}}},
		{"B3 overlong encoding of /", edit(t, `"Amy Doe"`, "\"Amy \xc0\xaf Doe\""), refusal{400, []string{"/children/0/name"}}},
		{"B3 raw surrogate (CESU-8)", edit(t, `"Amy Doe"`, "\"Amy \xed\xa0\x80 Doe\""), refusal{400, []string{"/children/0/name"}}},
		{"B3 escaped lone high surrogate", edit(t, `"Amy Doe"`, `"Amy \ud800 Doe"`), refusal{400, []string{"/children/0/name"}}},
		{"B3 escaped lone low surrogate", edit(t, `"Amy Doe"`, `"\udc00"`), refusal{400, []string{"/children/0/name"}}},
		{"B3 reversed surrogate pair", edit(t, `"Amy Doe"`, `"\ude00\ud83d"`), refusal{400, []string{"/children/0/name"}}},
		{"B3 invalid UTF-8 in a member name", edit(t, `"present"`, "\"pres\xffent\""), refusal{400, []string{"/children/0"}}},
		{"B3 byte order mark", "\uFEFF" + sample(t), refusal{400, []string{""}}},

		// B4: duplicates, exact and by case.
		{"B4 duplicate at the top", edit(t, `"force_code": "KENT",`, `"force_code": "KENT", "force_code": "KENT",`), refusal{400, []string{"/force_code"}}},
		{"B4 duplicate deep", edit(t, `"type": "school"`, `"type": "school", "type": "fe"`), refusal{400, []string{"/children/0/education/type"}}},
		{"B4 duplicate in an unknown object", `{"x": {"a": 1, "a": 2}}`, refusal{400, []string{"/x", "/x/a"}}},
		{"B4 case variant beside the field", edit(t, `"force_code": "KENT",`, `"force_code": "KENT", "Force_Code": "KENT",`), refusal{400, []string{"/Force_Code"}}},
		{"B4 case variant instead of the field", edit(t, `"force_code"`, `"FORCE_CODE"`), refusal{400, []string{"/FORCE_CODE"}}},
		{"B4 case variant deep", edit(t, `"urn"`, `"URN"`), refusal{400, []string{"/children/0/education/URN"}}},
		{"B4 case variants of an unknown name", edit(t, `"present": true,`, `"present": true, "childid": "A", "childId": "B",`),
			refusal{400, []string{"/children/0/childId", "/children/0/childid"}}},

		// B5: unknown and misspelled fields.
		{"B5 unknown top-level field", edit(t, `"force_code"`, `"severity": "high", "force_code"`), refusal{400, []string{"/severity"}}},
		{"B5 misspelled nested field", edit(t, `"date_of_birth": "2019-05-01"`, `"date_of_brith": "2019-05-01"`), refusal{400, []string{"/children/0/date_of_brith"}}},
		{"B5 unknown names are escaped in the pointer", edit(t, `"force_code"`, `"a/b~c": 1, "force_code"`), refusal{400, []string{"/a~1b~0c"}}},
		{"B5 every unknown field is listed", edit(t, `"force_code"`, `"zz": 1, "aa": 2, "force_code"`), refusal{400, []string{"/aa", "/zz"}}},

		// B6: not one JSON document.
		{"B6 trailing garbage", sample(t) + "x", refusal{400, []string{""}}},
		{"B6 two documents", sample(t) + sample(t), refusal{400, []string{""}}},
		{"B6 two empty objects", "{}{}", refusal{400, []string{""}}},
		{"B6 line comment", edit(t, `"force_code": "KENT",`, "\"force_code\": \"KENT\", // force\n"), refusal{400, []string{""}}},
		{"B6 block comment", edit(t, `"KENT"`, `/* force */ "KENT"`), refusal{400, []string{"/force_code"}}},
		{"B6 trailing comma in an object", edit(t, `"contact": "01622 000000"`, `"contact": "01622 000000",`), refusal{400, []string{"/officer"}}},
		{"B6 trailing comma in an array", edit(t, `"cp_plan": false}`, `"cp_plan": false},`), refusal{400, []string{"/children"}}},
		{"B6 NaN", edit(t, `"yes_count": 15`, `"yes_count": NaN`), refusal{400, []string{"/dash/yes_count"}}},
		{"B6 Infinity", edit(t, `"yes_count": 15`, `"yes_count": Infinity`), refusal{400, []string{"/dash/yes_count"}}},
		{"B6 single quotes", edit(t, `"KENT"`, `'KENT'`), refusal{400, []string{"/force_code"}}},
		{"B6 truncated", sample(t)[:100], refusal{400, []string{"/occurred_at"}}},
		{"B6 empty body", "", refusal{400, []string{""}}},
		{"B6 only spaces", " \r\n\t", refusal{400, []string{""}}},

		// B7: numbers that do not fit.
		{"B7 1e400", edit(t, `"yes_count": 15`, `"yes_count": 1e400`), refusal{400, []string{"/dash/yes_count"}}},
		{"B7 -1e400", edit(t, `"mappa_level": 0`, `"mappa_level": -1e400`), refusal{400, []string{"/adults/1/mappa_level"}}},
		{"B7 1e-400 underflows", edit(t, `"yes_count": 15`, `"yes_count": 1e-400`), refusal{400, []string{"/dash/yes_count"}}},
		{"B7 a huge exponent in an unknown field", edit(t, `"force_code"`, `"x": 0e-99999999999, "force_code"`), refusal{400, []string{"/x"}}},

		// B12: NUL.
		{"B12 NUL in a name", edit(t, `"Amy Doe"`, `"Amy\u0000Doe"`), refusal{400, []string{"/children/0/name"}}},
		{"B12 NUL in a member name", edit(t, `"force_code"`, `"force_code\u0000"`), refusal{400, []string{"/force_code\x00", "/force_code\x00"}}},
	}
	checkRefusals(t, cases)
}

// refusalCase is a body Decode must refuse, and how.
type refusalCase struct {
	name string
	body string
	want refusal
}

// checkRefusals decodes each case's body in a parallel subtest and
// compares the refusal with the one it wants.
func checkRefusals(t *testing.T, cases []refusalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ppn.Decode([]byte(tc.body))
			if diff := cmp.Diff(tc.want, refusalOf(t, err)); diff != "" {
				t.Errorf("Decode refusal mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	t.Parallel()
	body := edit(t, `"free text, for the MASH only"`, `"`+strings.Repeat("x", ppn.MaxBodyBytes)+`"`)

	_, err := ppn.Decode([]byte(body))

	if diff := cmp.Diff(refusal{413, []string{""}}, refusalOf(t, err)); diff != "" {
		t.Errorf("Decode refusal mismatch (-want +got):\n%s", diff)
	}
}

// TestDecodeSchema covers valid JSON that breaks the schema: 422, with a
// pointer per broken field.
func TestDecodeSchema(t *testing.T) {
	t.Parallel()
	cases := []refusalCase{
		// B5: missing, null, empty, blank.
		{"B5 missing force_code", edit(t, `"force_code": "KENT",`, ``), refusal{422, []string{"/force_code"}}},
		{"B5 missing child date of birth", edit(t, `"date_of_birth": "2019-05-01", `, ``), refusal{422, []string{"/children/0/date_of_birth"}}},
		{"B5 missing dash level", edit(t, `"level": "high", `, ``), refusal{422, []string{"/dash/level"}}},
		{"B5 null for a required string", edit(t, `"KENT"`, `null`), refusal{422, []string{"/force_code"}}},
		{"B5 null for an optional object", edit(t, `"officer": {"id": "KNT-4411", "name": "PC Smith", "contact": "01622 000000"}`, `"officer": null`),
			refusal{422, []string{"/officer"}}},
		{"B5 null children", mutate(t, func(n notice) { n["children"] = nil }), refusal{422, []string{"/children"}}},
		{"B5 empty string", edit(t, `"KNT-26-112233"`, `""`), refusal{422, []string{"/police_reference"}}},
		{"B5 whitespace-only name", edit(t, `"Amy Doe"`, `"   "`), refusal{422, []string{"/children/0/name"}}},
		{"B5 ideographic-space name", edit(t, `"Amy Doe"`, `"\u3000"`), refusal{422, []string{"/children/0/name"}}},
		{"B5 zero-width-space name", edit(t, `"Amy Doe"`, `"\u200b\u200b"`), refusal{422, []string{"/children/0/name"}}},
		{"B5 empty optional text", edit(t, `"said she hid upstairs"`, `""`), refusal{422, []string{"/children/0/voice_of_child"}}},
		{"B5 empty location", edit(t, `{"postcode": "ME4 4TR", "description": "family home"}`, `{}`), refusal{422, []string{"/location"}}},
		{"B5 no adults", mutate(t, func(n notice) { n["adults"] = []any{} }), refusal{422, []string{"/adults"}}},
		{"B5 every schema problem is listed", mutate(t, func(n notice) {
			n["force_code"] = "kent"
			n["reported_at"] = nil
			n.child(0)["present"] = "yes"
			delete(n.adult(1), "role")
		}), refusal{422, []string{"/adults/1/role", "/children/0/present", "/force_code", "/reported_at"}}},
		{"problems in reading order", mutate(t, func(n notice) {
			children := make([]any, 11)
			for i := range children {
				child := maps.Clone(n.child(0))
				child["person_id"] = "C-" + strconv.Itoa(i)
				children[i] = child
			}
			n["children"] = children
			n.child(10)["name"] = " "
			n.child(2)["name"] = " "
			n.child(2)["present"] = nil
		}), refusal{422, []string{"/children/2/name", "/children/2/present", "/children/10/name"}}},
		{"a whole notice of the wrong type", `[]`, refusal{422, []string{""}}},
		{"an empty object", `{}`, refusal{422, []string{
			"/adults", "/children", "/dash", "/force_code", "/local_authority_code", "/occurred_at", "/police_reference", "/reported_at",
		}}},

		// Enums and patterns.
		{"unknown DASH level", edit(t, `"level": "high"`, `"level": "severe"`), refusal{422, []string{"/dash/level"}}},
		{"unknown role", edit(t, `"role": "victim"`, `"role": "Victim"`), refusal{422, []string{"/adults/0/role"}}},
		{"unknown education type", edit(t, `"type": "school"`, `"type": "college"`), refusal{422, []string{"/children/0/education/type"}}},
		{"lower-case force code", edit(t, `"KENT"`, `"kent"`), refusal{422, []string{"/force_code"}}},
		{"Scottish council code", edit(t, `"E06000035"`, `"S12000033"`), refusal{422, []string{"/local_authority_code"}}},
		{"B12 malformed postcode", edit(t, `"ME4 4TR"`, `"ME4  4TR"`), refusal{422, []string{"/location/postcode"}}},
		{"B12 lower-case postcode", edit(t, `"ME4 4TR"`, `"me4 4tr"`), refusal{422, []string{"/location/postcode"}}},
		{"B12 NHS number with spaces", edit(t, `"9434765919"`, `"943 476 5919"`), refusal{422, []string{"/children/0/nhs_number"}}},
		{"B12 URN of 5 digits", edit(t, `"118234"`, `"11823"`), refusal{422, []string{"/children/0/education/urn"}}},
		{"B12 ODS code of a trust", edit(t, `"gp_ods_code": "G82001", "nhs_number"`, `"gp_ods_code": "RXX", "nhs_number"`),
			refusal{422, []string{"/children/0/gp_ods_code"}}},
		{"B13 CR LF in a name", edit(t, `"Amy Doe"`, `"Amy\r\nDoe"`), refusal{422, []string{"/children/0/name"}}},
		{"B13 subject wildcard in a police reference", edit(t, `"KNT-26-112233"`, `"KNT.*.>"`), refusal{422, []string{"/police_reference"}}},
		{"name over 200 characters", edit(t, `"Amy Doe"`, `"`+strings.Repeat("é", 201)+`"`), refusal{422, []string{"/children/0/name"}}},
		{"voice of the child over 20000 characters", edit(t, `"said she hid upstairs"`, `"`+strings.Repeat("a", 20001)+`"`),
			refusal{422, []string{"/children/0/voice_of_child"}}},

		// Education and DASH combinations.
		{"school without a URN", edit(t, `{"type": "school", "urn": "118234"}`, `{"type": "school"}`), refusal{422, []string{"/children/0/education/urn"}}},
		{"home educated with a URN", edit(t, `"type": "school"`, `"type": "home_educated"`), refusal{422, []string{"/children/0/education/urn"}}},
		{"yes count without a completed DASH", edit(t, `"level": "high"`, `"level": "not_completed"`), refusal{422, []string{"/dash/yes_count"}}},

		// B7: numbers.
		{"B7 minus zero for an integer", edit(t, `"mappa_level": 0`, `"mappa_level": -0`), refusal{422, []string{"/adults/1/mappa_level"}}},
		{"B7 2.0 for an integer", edit(t, `"mappa_level": 0`, `"mappa_level": 2.0`), refusal{422, []string{"/adults/1/mappa_level"}}},
		{"B7 exponent for an integer", edit(t, `"yes_count": 15`, `"yes_count": 1.5e1`), refusal{422, []string{"/dash/yes_count"}}},
		{"B7 fraction for an integer", edit(t, `"yes_count": 15`, `"yes_count": 1.5`), refusal{422, []string{"/dash/yes_count"}}},
		{"B7 2^53+1 as an id", edit(t, `"P-1"`, `9007199254740993`), refusal{422, []string{"/adults/0/person_id"}}},
		{"B7 2^53+1 as a count", edit(t, `"incidents_same_parties_12m": 2`, `"incidents_same_parties_12m": 9007199254740993`),
			refusal{422, []string{"/incidents_same_parties_12m"}}},
		{"B7 string for an integer", edit(t, `"yes_count": 15`, `"yes_count": "15"`), refusal{422, []string{"/dash/yes_count"}}},
		{"yes count over 27", edit(t, `"yes_count": 15`, `"yes_count": 28`), refusal{422, []string{"/dash/yes_count"}}},
		{"MAPPA level 4", edit(t, `"mappa_level": 0`, `"mappa_level": 4`), refusal{422, []string{"/adults/1/mappa_level"}}},

		// B11: dates and times.
		{"B11 30 February", edit(t, `"2019-05-01"`, `"2019-02-30"`), refusal{422, []string{"/children/0/date_of_birth"}}},
		{"B11 29 February in a common year", edit(t, `"2019-05-01"`, `"2019-02-29"`), refusal{422, []string{"/children/0/date_of_birth"}}},
		{"B11 leap second", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20T23:59:60Z"`), refusal{422, []string{"/occurred_at"}}},
		{"B11 no time zone", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20T22:15:00"`), refusal{422, []string{"/occurred_at"}}},
		{"B11 a date for a timestamp", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20"`), refusal{422, []string{"/occurred_at"}}},
		{"B11 lower-case t and z", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20t22:15:00z"`), refusal{422, []string{"/occurred_at"}}},
		{"B11 offset out of range", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20T22:15:00+24:00"`), refusal{422, []string{"/occurred_at"}}},
		{"B11 hour 24", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20T24:00:00Z"`), refusal{422, []string{"/occurred_at"}}},
		{"B11 date of birth with a time", edit(t, `"2019-05-01"`, `"2019-05-01T00:00:00Z"`), refusal{422, []string{"/children/0/date_of_birth"}}},
		{"B11 year 10000", edit(t, `"2026-11-20T22:40:00Z"`, `"10000-01-01T00:00:00Z"`), refusal{422, []string{"/reported_at"}}},
	}
	checkRefusals(t, cases)
}

// TestDecodeDetails pins the wording of a few refusals, since senders'
// developers read them.
func TestDecodeDetails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		want []ppn.FieldProblem
	}{
		{"case variant", edit(t, `"force_code"`, `"Force_Code"`), []ppn.FieldProblem{
			{Pointer: "/Force_Code", Detail: `is not a field of a PPN; names are case-sensitive: did you mean "force_code"?`},
		}},
		{"duplicate", edit(t, `"force_code": "KENT",`, `"force_code": "KENT", "force_code": "KENT",`), []ppn.FieldProblem{
			{Pointer: "/force_code", Detail: "repeats a member name already used in this object; duplicates are refused, never last-wins"},
		}},
		{"missing", edit(t, `"force_code": "KENT",`, ``), []ppn.FieldProblem{
			{Pointer: "/force_code", Detail: "is required"},
		}},
		{"null", edit(t, `"KENT"`, `null`), []ppn.FieldProblem{
			{Pointer: "/force_code", Detail: "must be a string, not null"},
		}},
		{"enum", edit(t, `"level": "high"`, `"level": "severe"`), []ppn.FieldProblem{
			{Pointer: "/dash/level", Detail: `must be one of "standard", "medium", "high", "not_completed"`},
		}},
		{"pattern", edit(t, `"ME4 4TR"`, `"ME44TR!"`), []ppn.FieldProblem{
			{Pointer: "/location/postcode", Detail: "must be a UK postcode in upper case, with or without its single space, e.g. ME4 4TR"},
		}},
		{"format and pattern together", edit(t, `"2026-11-20T22:15:00Z"`, `"2026-11-20T22:15:00"`), []ppn.FieldProblem{
			{Pointer: "/occurred_at", Detail: "must be an RFC 3339 date-time with an upper-case T, seconds, at most 9 fractional digits and an offset (Z or +hh:mm), e.g. 2026-11-20T22:15:00Z; leap seconds are refused"},
		}},
		{"format alone", edit(t, `"2019-05-01"`, `"2019-02-30"`), []ppn.FieldProblem{
			{Pointer: "/children/0/date_of_birth", Detail: "must be a calendar date written YYYY-MM-DD, e.g. 2019-05-01"},
		}},
		{"not allowed", edit(t, `"type": "school"`, `"type": "none"`), []ppn.FieldProblem{
			{Pointer: "/children/0/education/urn", Detail: "is not allowed: send a URN only for a child on the roll of a school, college or early-years setting"},
		}},
		{"maximum", edit(t, `"yes_count": 15`, `"yes_count": 28`), []ppn.FieldProblem{
			{Pointer: "/dash/yes_count", Detail: "must be at most 27"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ppn.Decode([]byte(tc.body))
			var perr *ppn.Error
			if !errors.As(err, &perr) {
				t.Fatalf("Decode error = %v, want *ppn.Error", err)
			}
			if diff := cmp.Diff(tc.want, perr.Problems); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeKeepsNames checks B12: real names in any script, with the
// characters that trip up naive code, are accepted and kept byte for byte,
// through decoding and the canonical form alike.
func TestDecodeKeepsNames(t *testing.T) {
	t.Parallel()
	names := map[string]string{
		"apostrophe":          "Siobhán O'Brien",
		"hyphen":              "Anne-Marie Smith-Jones",
		"diacritics":          "Zoë Żółć-Łukasiewicz",
		"Vietnamese":          "Nguyễn Thị Ngọc",
		"Arabic (RTL)":        "فاطمة الزهراء",
		"Hebrew (RTL)":        "נועה כהן",
		"RTL override":        "Amy \u202eeoD",
		"zero-width joiner":   "Amy\u200dDoe",
		"zero-width space":    "Amy\u200bDoe",
		"combining marks":     "Zoe\u0308 Rene\u0301e",
		"emoji":               "Amy 👩‍👧 Doe",
		"CJK":                 "王小明",
		"Devanagari":          "अनन्या शर्मा",
		"SQL metacharacters":  "Robert'); DROP TABLE children;--",
		"spreadsheet formula": "=HYPERLINK(\"x\")",
		"markup":              "<script>alert(1)</script>",
		"escaped in the body": `Amy \u00e9\/ Doe`,
	}
	for label, name := range names {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			want := name
			if label == "escaped in the body" {
				want = "Amy é/ Doe"
			}
			in := mustDecode(t, edit(t, `"Amy Doe"`, `"`+strings.ReplaceAll(name, `"`, `\"`)+`"`))
			if got := in.Children[0].Name; got != want {
				t.Errorf("decoded name = %+q, want %+q", got, want)
			}
			again := mustDecode(t, string(in.Canonical()))
			if got := again.Children[0].Name; got != want {
				t.Errorf("name after the canonical round trip = %+q, want %+q", got, want)
			}
		})
	}
}

func TestDecodeProblemCap(t *testing.T) {
	t.Parallel()
	body := mutate(t, func(n notice) { n["children"] = make([]any, 50_000) })

	_, err := ppn.Decode([]byte(body))

	var perr *ppn.Error
	if !errors.As(err, &perr) {
		t.Fatalf("Decode error = %v, want *ppn.Error", err)
	}
	last := ppn.FieldProblem{Pointer: "", Detail: "has more problems than the 99 listed; fix these and send it again"}
	if len(perr.Problems) != ppn.MaxProblems || perr.Problems[ppn.MaxProblems-1] != last {
		t.Errorf("got %d problems ending %+v, want %d ending %+v", len(perr.Problems), perr.Problems[len(perr.Problems)-1], ppn.MaxProblems, last)
	}
}

package refimport

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// GIAS's column names in the establishment download.
const (
	giasURN    = "URN"
	giasName   = "EstablishmentName"
	giasLA     = "LA (code)"
	giasPhase  = "PhaseOfEducation (name)"
	giasStatus = "EstablishmentStatus (name)"
)

// openStatuses are the GIAS statuses of a school that has pupils today.
var openStatuses = []string{"open", "open, but proposed to close"}

// Reasons a row is left out.
const (
	reasonClosed       = "closed or not yet open"
	reasonOtherLA      = "in a local authority not mapped with --la"
	reasonNoDSL        = "without a DSL address in the contacts file"
	reasonNoCalendar   = "without a term calendar (contacts file or --calendar-id)"
	reasonNoSafeguard  = "without a safeguarding address in the contacts file"
	reasonInactive     = "not active (closed, dormant or proposed)"
	reasonNotPractice  = "not a GP practice (prescribing setting other than 4)"
	reasonRepeatedCode = "listed twice"
)

func importGIAS(o Options, contacts map[contactKey]contact) (*FileSummary, error) {
	if o.GIAS == "" {
		return nil, nil
	}
	header, rows, err := readRegister(o.GIAS, true)
	if err != nil {
		return nil, err
	}
	at, err := columns(o.GIAS, header, giasURN, giasName, giasLA, giasPhase, giasStatus)
	if err != nil {
		return nil, err
	}
	sum := newFileSummary(schoolsFile)
	var out [][]string
	seen := map[string]bool{}
	for _, row := range rows {
		urn := cell(row, at[giasURN])
		line, reason := schoolRow(o, contacts, row, at)
		if reason == "" && seen[urn] {
			reason = reasonRepeatedCode
		}
		if reason != "" {
			sum.skip(reason, urn)
			continue
		}
		seen[urn] = true
		out = append(out, line)
	}
	sum.Written = len(out)
	header = []string{"urn", "name", "local_authority_code", "phase", "dsl_email", "day_start", "calendar_id"}
	return sum, writeCSV(filepath.Join(o.Out, schoolsFile), header, out)
}

// schoolRow is one schools.csv row, or why the school is left out. The
// phase is GIAS's own name, which schools.csv accepts as it is.
func schoolRow(o Options, contacts map[contactKey]contact, row []string, at map[string]int) ([]string, string) {
	urn := cell(row, at[giasURN])
	if !slices.Contains(openStatuses, strings.ToLower(cell(row, at[giasStatus]))) {
		return nil, reasonClosed
	}
	la, ok := o.LACodes[cell(row, at[giasLA])]
	if !ok {
		return nil, reasonOtherLA
	}
	c := contacts[contactKey{"school", urn}]
	if c.email == "" {
		return nil, reasonNoDSL
	}
	day, cal := firstOf(c.dayStart, o.DayStart, "08:30"), firstOf(c.calendarID, o.CalendarID)
	if cal == "" {
		return nil, reasonNoCalendar
	}
	return []string{urn, cell(row, at[giasName]), la, cell(row, at[giasPhase]), c.email, day, cal}, ""
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// The columns of epraccur, which has no header: the organisation code,
// its name, its status (A active, C closed, D dormant, P proposed) and
// its prescribing setting (4 is a GP practice).
const (
	odsCode    = 0
	odsName    = 1
	odsStatus  = 12
	odsSetting = 25
)

func importODS(o Options, contacts map[contactKey]contact) (*FileSummary, error) {
	if o.ODS == "" {
		return nil, nil
	}
	_, rows, err := readRegister(o.ODS, false)
	if err != nil {
		return nil, err
	}
	sum := newFileSummary(gpPracticesFile)
	var out [][]string
	seen := map[string]bool{}
	for i, row := range rows {
		if len(row) <= odsStatus {
			return nil, fmt.Errorf("%s line %d has %d columns; epraccur has at least %d", o.ODS, i+1, len(row), odsStatus+1)
		}
		code := strings.ToUpper(cell(row, odsCode))
		reason := practiceReason(row, contacts[contactKey{"gp", code}], seen[code])
		if reason != "" {
			sum.skip(reason, code)
			continue
		}
		seen[code] = true
		out = append(out, []string{code, titleCase(cell(row, odsName)), contacts[contactKey{"gp", code}].email})
	}
	sum.Written = len(out)
	return sum, writeCSV(filepath.Join(o.Out, gpPracticesFile), []string{"ods_code", "name", "safeguarding_email"}, out)
}

func practiceReason(row []string, c contact, seen bool) string {
	switch {
	case cell(row, odsStatus) != "A":
		return reasonInactive
	case len(row) > odsSetting && cell(row, odsSetting) != "" && cell(row, odsSetting) != "4":
		return reasonNotPractice
	case c.email == "":
		return reasonNoSafeguard
	case seen:
		return reasonRepeatedCode
	}
	return ""
}

// titleCase turns ODS's upper-case names ("THE RIVER SURGERY") into the
// way people write them ("The River Surgery").
func titleCase(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		if w == "&" || (i > 0 && (w == "and" || w == "of" || w == "the")) {
			continue
		}
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// importBankHolidays checks the GOV.UK file has the england-and-wales
// division Lantern's working days use, and writes it as it is.
func importBankHolidays(o Options) (*FileSummary, error) {
	if o.BankHolidays == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(o.BankHolidays)
	if err != nil {
		return nil, err
	}
	var file map[string]struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("%s is not the GOV.UK bank holidays JSON: %w", o.BankHolidays, err)
	}
	ew, ok := file["england-and-wales"]
	if !ok || len(ew.Events) == 0 {
		return nil, fmt.Errorf("%s has no england-and-wales bank holidays", o.BankHolidays)
	}
	sum := newFileSummary(bankHolidaysFile)
	sum.Written = len(ew.Events)
	for division, d := range file {
		if division != "england-and-wales" {
			sum.Skipped["in "+division+", which Lantern's working days do not use"] += len(d.Events)
		}
	}
	return sum, os.WriteFile(filepath.Join(o.Out, bankHolidaysFile), raw, 0o644)
}

package refdata

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong in the reference data folder, located precisely
// enough for the person who maintains the files to fix it.
type Problem struct {
	// File is the file's path inside the folder, with forward slashes
	// ("schools.csv", "calendars/medway-standard.json").
	File string
	// Line is the 1-based line the problem is on, or 0 when it concerns the
	// file as a whole.
	Line int
	// Field is the CSV column or the JSON path ("terms[1].end"), or empty
	// when the problem concerns a whole line or file.
	Field string
	// Message says what is wrong. It may quote the value found, so it can
	// carry personal data such as a named person's email address.
	Message string
}

// String formats the problem as
// `schools.csv line 4, field day_start: "8.30" is not a valid HH:MM time`.
func (p Problem) String() string {
	return p.Location() + ": " + p.Message
}

// Location names where the problem is without saying what the value was,
// so that logs can point at it without copying personal data.
func (p Problem) Location() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, " line %d", p.Line)
	}
	if p.Field != "" {
		if p.Line > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " field %s", p.Field)
	}
	return b.String()
}

// LoadError reports every problem found in a reference data folder, so that
// one round of fixes can deal with all of them.
type LoadError struct {
	Problems []Problem
}

// Error lists the problems, one a line.
func (e *LoadError) Error() string {
	noun := "problems"
	if len(e.Problems) == 1 {
		noun = "problem"
	}
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("reference data has %d %s:", len(e.Problems), noun))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

// Locations lists where each problem is, without the values, for logs.
func (e *LoadError) Locations() []string {
	locations := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		locations[i] = p.Location()
	}
	return locations
}

// sortProblems orders problems by file and line. The sort is stable, so the
// problems of one line keep the order of its columns.
func sortProblems(problems []Problem) {
	slices.SortStableFunc(problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

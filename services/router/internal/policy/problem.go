package policy

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a policy file, located by line and by
// the dotted path of the field, such as rules.R8.send_by.
type Problem struct {
	File string
	Line int
	// Column is set for a problem inside an expression: the column in the
	// file (the message also gives the column in the expression).
	Column  int
	Field   string
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s", p.place(), p.tail())
}

func (p Problem) place() string {
	if p.Column > 0 {
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

func (p Problem) tail() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// LoadError lists every problem found in a policy file, so that an editor
// can fix them all in one pass.
type LoadError struct {
	File     string
	Problems []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("policy file %s has %d problem(s):", e.File, len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

// Locations returns "file:line field" for each problem, without the
// values, for logs.
func (e *LoadError) Locations() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.place() + " " + p.Field
	}
	return out
}

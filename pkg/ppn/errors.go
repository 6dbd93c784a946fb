package ppn

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Titles of the kinds of refusal. They are fixed so that the HTTP
// layer can use them as RFC 9457 titles and a sender can tell the kinds
// apart without parsing details.
const (
	TitleTooLarge  = "The notice is too large"
	TitleMalformed = "The body is not acceptable JSON"
	TitleSchema    = "The notice does not match the PPN schema"
	TitleRules     = "The notice breaks Lantern's rules"
)

// Error is why a notice was refused. Status is the HTTP status the intake
// answers with: 400 when the body is not JSON Lantern will read at all
// (malformed, ambiguous or carrying unknown fields), 422 when it is readable
// JSON that breaks the schema or the rules, 413 when it is over
// MaxBodyBytes. Every problem names the offending place with an RFC 6901
// JSON pointer, so the error maps directly onto RFC 9457 problem details.
//
// Details never quote the values sent: a notice is full of personal data
// and errors end up in logs.
type Error struct {
	Status   int
	Title    string
	Problems []FieldProblem
}

// FieldProblem is one thing wrong with a notice.
type FieldProblem struct {
	// Pointer is an RFC 6901 JSON pointer into the body, such as
	// /children/0/date_of_birth; "" is the whole body.
	Pointer string
	// Detail says what is wrong in words a sender's developer can act on.
	Detail string
}

// Error summarises the refusal on one line.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ppn: %d %s", e.Status, e.Title)
	for i, p := range e.Problems {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep)
		b.WriteString(strconv.Quote(p.Pointer))
		b.WriteString(" ")
		b.WriteString(p.Detail)
	}
	return b.String()
}

// MaxProblems caps the problems listed in one Error. A body of a hundred
// thousand wrong array elements deserves one answer, not a hundred thousand.
const MaxProblems = 100

// newError builds an Error listing the first MaxProblems distinct problems
// in a stable order (by pointer, then detail), so that the same body always
// gets the same, bounded answer. When there are more, the last one listed
// says so.
func newError(status int, title string, problems []FieldProblem) *Error {
	kept, more := firstProblems(problems, MaxProblems)
	if more {
		kept = append(kept[:MaxProblems-1], FieldProblem{
			Pointer: "",
			Detail:  fmt.Sprintf("has more problems than the %d listed; fix these and send it again", MaxProblems-1),
		})
	}
	return &Error{Status: status, Title: title, Problems: kept}
}

// firstProblems returns the limit smallest distinct problems, sorted, and
// whether any distinct problem was left out. It keeps only limit at a time
// rather than sorting them all, since a hostile body can produce hundreds
// of thousands.
func firstProblems(problems []FieldProblem, limit int) (kept []FieldProblem, more bool) {
	kept = make([]FieldProblem, 0, limit+1)
	for _, p := range problems {
		i, found := slices.BinarySearchFunc(kept, p, compareProblems)
		switch {
		case found:
		case i == limit:
			more = true
		default:
			kept = slices.Insert(kept, i, p)
			if len(kept) > limit {
				kept, more = kept[:limit], true
			}
		}
	}
	return kept, more
}

func compareProblems(a, b FieldProblem) int {
	return cmp.Or(comparePointers(a.Pointer, b.Pointer), strings.Compare(a.Detail, b.Detail))
}

// comparePointers orders pointers as a reader would: token by token, with
// array indexes compared as numbers, so /children/2 comes before
// /children/10.
func comparePointers(a, b string) int {
	for a != "" && b != "" {
		var ta, tb string
		ta, a = nextToken(a)
		tb, b = nextToken(b)
		if c := compareTokens(ta, tb); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// nextToken splits "/token/rest" into "token" and "/rest", or into
// "token" and "" at the last token.
func nextToken(pointer string) (token, rest string) {
	pointer = strings.TrimPrefix(pointer, "/")
	if i := strings.IndexByte(pointer, '/'); i >= 0 {
		return pointer[:i], pointer[i:]
	}
	return pointer, ""
}

func compareTokens(a, b string) int {
	if isIndex(a) && isIndex(b) {
		return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	}
	return strings.Compare(a, b)
}

// isIndex reports whether a reference token is an array index: digits with
// no leading zero.
func isIndex(tok string) bool {
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return false
	}
	for i := range len(tok) {
		if tok[i] < '0' || tok[i] > '9' {
			return false
		}
	}
	return true
}

func malformed(problems ...FieldProblem) *Error {
	return newError(http.StatusBadRequest, TitleMalformed, problems)
}

// pointerTo builds an RFC 6901 pointer from unescaped reference tokens.
func pointerTo(tokens ...string) string {
	var b strings.Builder
	for _, tok := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(tok))
	}
	return b.String()
}

// escapeToken escapes one reference token: "~" as "~0" and "/" as "~1", in
// that order, as RFC 6901 section 3 requires.
func escapeToken(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

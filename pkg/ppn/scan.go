package ppn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// maxDepth bounds how deeply arrays and objects may nest. A notice needs
// four levels (/children/0/education/type); anything far deeper is an
// attack on the parser, refused before it costs memory.
const maxDepth = 32

// plainInteger is how an integer must be written: no sign on zero, no
// fraction, no exponent. JSON Schema would call 2.0 and 1e1 integers, but
// a police system that writes them is confused about the field, and -0 has
// no meaning for a count.
var plainInteger = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)

// scanner reads a body token by token. It leans on jsontext for the
// grammar, UTF-8 (including escaped lone surrogates) and duplicate member
// names, and adds what jsontext leaves to the caller: a nesting limit,
// numbers that do not fit a float64, NUL characters, member names the
// Incident type does not have, and integers written in other forms. It
// builds the generic value that the schema is checked against.
type scanner struct {
	dec *jsontext.Decoder
	// malformed collects refusals of class 400; invalid those of class 422
	// that the schema cannot see (the spelling of an integer).
	malformed []FieldProblem
	invalid   []FieldProblem
}

// errStop ends a scan at a problem after which nothing more can be read.
var errStop = errors.New("stop scanning")

// scan reads the single JSON value in body. It returns errStop when a
// problem was recorded that makes the rest of the body unreadable.
func (s *scanner) scan(body []byte) (any, error) {
	s.dec = jsontext.NewDecoder(bytes.NewReader(body))
	v, err := s.value(incidentShape())
	if err != nil {
		return nil, err
	}
	if _, err := s.dec.ReadToken(); err != io.EOF {
		s.malformed = append(s.malformed, FieldProblem{Pointer: "", Detail: "has data after the end of the JSON document; send exactly one object"})
		return nil, errStop
	}
	return v, nil
}

// value reads the next value, expected to have the given shape (nil when
// nothing is expected of it any more).
func (s *scanner) value(want *shape) (any, error) {
	switch s.dec.PeekKind() {
	case '{':
		return s.object(want)
	case '[':
		return s.array(want)
	case '0':
		return s.number(want)
	}
	tok, err := s.dec.ReadToken()
	if err != nil {
		return nil, s.syntax(err)
	}
	switch tok.Kind() {
	case '"':
		str := tok.String()
		s.checkString(str, string(s.dec.StackPointer()))
		return str, nil
	case 't', 'f':
		return tok.Bool(), nil
	default:
		return nil, nil
	}
}

func (s *scanner) object(want *shape) (any, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	obj := map[string]any{}
	for s.dec.PeekKind() != '}' {
		tok, err := s.dec.ReadToken()
		if err != nil {
			return nil, s.syntax(err)
		}
		name := tok.String()
		ptr := string(s.dec.StackPointer())
		s.checkString(name, ptr)
		member := s.checkMember(want, name, ptr)
		if obj[name], err = s.value(member); err != nil {
			return nil, err
		}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return nil, s.syntax(err)
	}
	return obj, nil
}

func (s *scanner) array(want *shape) (any, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	var elem *shape
	if want.isArray() {
		elem = want.elem
	}
	arr := []any{}
	for s.dec.PeekKind() != ']' {
		v, err := s.value(elem)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return nil, s.syntax(err)
	}
	return arr, nil
}

// open reads the '{' or '[' that starts an object or array and enforces
// maxDepth before anything inside is read.
func (s *scanner) open() error {
	if _, err := s.dec.ReadToken(); err != nil {
		return s.syntax(err)
	}
	if s.dec.StackDepth() > maxDepth {
		s.malformed = append(s.malformed, FieldProblem{
			Pointer: validPointer(s.dec.StackPointer()),
			Detail:  fmt.Sprintf("nests arrays and objects more than %d deep", maxDepth),
		})
		return errStop
	}
	return nil
}

// number keeps a number as a float64 once it is known to fit one: the
// schema checks ranges on it, and a float64 cannot be made to cost the
// validator unbounded arithmetic the way an arbitrary-precision literal
// such as 1e-99999999 can.
func (s *scanner) number(want *shape) (any, error) {
	raw, err := s.dec.ReadValue()
	if err != nil {
		return nil, s.syntax(err)
	}
	ptr := string(s.dec.StackPointer())
	literal := string(raw)
	f, err := strconv.ParseFloat(literal, 64)
	if err != nil || (f == 0 && hasNonZeroDigit(literal)) {
		s.malformed = append(s.malformed, FieldProblem{Pointer: ptr, Detail: "is a number too large or too small to represent"})
		return nil, nil
	}
	// A fraction is the schema's to report ("must be an integer"); only a
	// whole number spelled unlike an integer is left for this check.
	if want != nil && want.integer && f == math.Trunc(f) && !plainInteger.MatchString(literal) {
		s.invalid = append(s.invalid, FieldProblem{Pointer: ptr, Detail: "must be written as a plain integer, with no fraction, exponent or minus zero"})
	}
	return f, nil
}

// hasNonZeroDigit reports whether the significand of a JSON number has a
// digit other than zero, so that an underflow to zero can be told from 0.
func hasNonZeroDigit(literal string) bool {
	significand, _, _ := strings.Cut(strings.ToLower(literal), "e")
	return strings.ContainsAny(significand, "123456789")
}

// checkString refuses NUL, which PostgreSQL text cannot store and which has
// no business in a notice. jsontext has already refused invalid UTF-8.
func (s *scanner) checkString(str, ptr string) {
	if strings.IndexByte(str, 0) >= 0 {
		s.malformed = append(s.malformed, FieldProblem{Pointer: ptr, Detail: "contains a NUL character (\\u0000)"})
	}
}

// checkMember refuses a member name the object's type does not have and
// returns the shape of the member's value (nil for an unknown member, whose
// value is still read so that later syntax errors are found).
func (s *scanner) checkMember(obj *shape, name, ptr string) *shape {
	if !obj.isObject() {
		return nil
	}
	if member := obj.member(name); member != nil {
		return member
	}
	detail := "is not a field of a PPN here; unknown fields are refused"
	if known, ok := obj.lookalike(name); ok {
		detail = fmt.Sprintf("is not a field of a PPN; names are case-sensitive: did you mean %q?", known)
	}
	s.malformed = append(s.malformed, FieldProblem{Pointer: ptr, Detail: detail})
	return nil
}

// syntax records a grammar error reported by jsontext.
func (s *scanner) syntax(err error) error {
	problem := FieldProblem{Pointer: "", Detail: "is not valid JSON: the body ends too early"}
	var serr *jsontext.SyntacticError
	switch {
	case errors.As(err, &serr):
		problem = syntaxProblem(serr)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
	default:
		problem.Detail = "is not valid JSON"
	}
	s.malformed = append(s.malformed, problem)
	return errStop
}

func syntaxProblem(serr *jsontext.SyntacticError) FieldProblem {
	ptr := validPointer(serr.JSONPointer)
	switch {
	case errors.Is(serr.Err, jsontext.ErrDuplicateName):
		return FieldProblem{Pointer: ptr, Detail: "repeats a member name already used in this object; duplicates are refused, never last-wins"}
	case errors.Is(serr.Err, io.ErrUnexpectedEOF):
		return FieldProblem{Pointer: ptr, Detail: "is not valid JSON: the body ends too early"}
	}
	return FieldProblem{Pointer: ptr, Detail: fmt.Sprintf("is not valid JSON at byte %d: %s", serr.ByteOffset, grammarDetail(serr.Err))}
}

// grammarDetail words a grammar error. jsontext quotes up to twelve bytes
// of the text around a bad escape, which can be part of a name; those are
// left out. Other errors quote at most the one offending character.
func grammarDetail(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"invalid surrogate pair", "invalid escape sequence"} {
		if strings.HasPrefix(msg, prefix) {
			return prefix + " in a string"
		}
	}
	return msg
}

// validPointer returns p, or its nearest ancestor if p itself would not be
// valid UTF-8 (a member name can be where the invalid bytes are).
func validPointer(p jsontext.Pointer) string {
	for !utf8.ValidString(string(p)) {
		p = p.Parent()
	}
	return string(p)
}

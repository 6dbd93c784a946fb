package eventschema

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Failure is one way a document breaks its schema.
type Failure struct {
	// Pointer is the RFC 6901 JSON pointer of the offending value in the
	// document; for a missing or forbidden property it points at the
	// property itself, so that a sender can be told exactly which field to
	// add or remove. The empty pointer is the whole document.
	Pointer string
	// Message says what is wrong, in English.
	Message string
}

// ValidationError is returned when a document does not match its schema. It
// lists every failure, sorted by pointer.
type ValidationError struct {
	SchemaID string
	Failures []Failure
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = fmt.Sprintf("%s: %s", displayPointer(f.Pointer), f.Message)
	}
	return fmt.Sprintf("document does not match %s: %s", e.SchemaID, strings.Join(parts, "; "))
}

// Pointers returns the pointer of every failure, in order, with repeats
// removed; handy for tests and for summaries.
func (e *ValidationError) Pointers() []string {
	ptrs := make([]string, 0, len(e.Failures))
	for _, f := range e.Failures {
		ptrs = append(ptrs, f.Pointer)
	}
	return slices.Compact(ptrs)
}

func displayPointer(p string) string {
	if p == "" {
		return "(document)"
	}
	return p
}

// printer renders the library's messages; English is the only language
// Lantern's APIs speak.
var printer = message.NewPrinter(language.English)

// failures flattens the library's error tree into its leaves, the failures a
// person can act on; the inner nodes only say which keyword led to them.
func failures(root *jsonschema.ValidationError) []Failure {
	var out []Failure
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, leafFailures(e)...)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(root)
	slices.SortFunc(out, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(a.Pointer, b.Pointer), cmp.Compare(a.Message, b.Message))
	})
	return slices.Compact(out)
}

// leafFailures turns one leaf into failures. Missing and forbidden
// properties are reported at the property's own pointer, one failure each,
// because the library reports them at the enclosing object.
func leafFailures(e *jsonschema.ValidationError) []Failure {
	at := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return each(at, k.Missing, "is required")
	case *kind.DependentRequired:
		return each(at, k.Missing, fmt.Sprintf("is required when %q is present", k.Prop))
	case *kind.AdditionalProperties:
		return each(at, k.Properties, "is not allowed here")
	}
	return []Failure{{Pointer: pointer(at), Message: describe(e.ErrorKind)}}
}

// describe says what is wrong without repeating the offending value: these
// messages reach logs and dead-letter reasons, and the value may be a name
// or a date of birth.
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Pattern:
		return "does not have the required form"
	case *kind.Format:
		return fmt.Sprintf("is not a valid %s", k.Want)
	case *kind.Enum:
		return "is not one of the allowed values"
	case *kind.Const:
		return "is not the required value"
	}
	return k.LocalizedString(printer)
}

func each(at []string, props []string, msg string) []Failure {
	out := make([]Failure, len(props))
	for i, p := range props {
		out[i] = Failure{Pointer: pointer(append(slices.Clip(at), p)), Message: msg}
	}
	return out
}

// pointerEscaper escapes a reference token; "~" goes first so that the "~1"
// written for "/" is not escaped again.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// pointer encodes reference tokens as an RFC 6901 JSON pointer.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(t))
	}
	return b.String()
}

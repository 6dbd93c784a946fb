package refdata

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// jsonDoc is one decoded JSON file that can still say which line each of its
// values was on, so that problems found after decoding name a line too.
type jsonDoc struct {
	file string
	// lineStarts holds the byte offset at which each line begins.
	lineStarts []int
	// valueLines maps a JSON Pointer to the line its member name or value
	// starts on.
	valueLines map[jsontext.Pointer]int
}

// decodeJSON decodes a file into v, reporting a syntax error or a value of
// the wrong type with its line and path. ok is false if it could not decode.
func (l *loader) decodeJSON(file string, v any, opts ...json.Options) (doc jsonDoc, ok bool) {
	data, present := l.snap.files[file]
	if !present {
		l.fileProblem(file, "file is missing")
		return jsonDoc{}, false
	}
	data = bytes.TrimPrefix(data, byteOrderMark)
	doc = jsonDoc{file: file, lineStarts: lineStarts(data)}
	if err := json.Unmarshal(data, v, opts...); err != nil {
		l.add(doc.decodeProblem(err))
		return doc, false
	}
	doc.valueLines = valueLines(data, doc.lineStarts)
	return doc, true
}

// lineStarts returns the offset of the first byte of each line.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineAt returns the 1-based line holding the byte at offset.
func lineAt(starts []int, offset int64) int {
	return sort.Search(len(starts), func(i int) bool { return int64(starts[i]) > offset })
}

// valueLines walks a valid document and records the line of every value by
// its JSON Pointer. An object member is recorded where its name is.
func valueLines(data []byte, starts []int) map[jsontext.Pointer]int {
	lines := map[jsontext.Pointer]int{}
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := dec.ReadToken(); err != nil {
			return lines
		}
		pointer := dec.StackPointer()
		if _, seen := lines[pointer]; !seen {
			lines[pointer] = lineAt(starts, dec.InputOffset()-1)
		}
	}
}

// problemAt returns a problem at the value the pointer names.
func (d jsonDoc) problemAt(pointer jsontext.Pointer, format string, args ...any) Problem {
	return Problem{File: d.file, Line: d.valueLines[pointer], Field: fieldPath(pointer), Message: fmt.Sprintf(format, args...)}
}

// decodeProblem turns a decoding error into a problem in the file's own
// terms: the line, the path, and what was expected there.
func (d jsonDoc) decodeProblem(err error) Problem {
	var syntaxErr *jsontext.SyntacticError
	if errors.As(err, &syntaxErr) {
		return Problem{File: d.file, Line: lineAt(d.lineStarts, syntaxErr.ByteOffset),
			Field: fieldPath(syntaxErr.JSONPointer), Message: "is not valid JSON: " + syntaxCause(syntaxErr)}
	}
	var semanticErr *json.SemanticError
	if errors.As(err, &semanticErr) {
		return Problem{File: d.file, Line: lineAt(d.lineStarts, semanticErr.ByteOffset),
			Field: fieldPath(semanticErr.JSONPointer), Message: semanticMessage(semanticErr)}
	}
	return Problem{File: d.file, Message: "is not valid JSON: " + err.Error()}
}

// syntaxCause is the syntax error's own description without the package
// prefix and location, which the problem already carries.
func syntaxCause(err *jsontext.SyntacticError) string {
	if err.Err != nil {
		return strings.TrimPrefix(err.Err.Error(), "jsontext: ")
	}
	return err.Error()
}

func semanticMessage(err *json.SemanticError) string {
	if errors.Is(err.Err, json.ErrUnknownName) {
		return "unknown field"
	}
	if err.JSONKind != 0 && err.GoType != nil {
		return fmt.Sprintf("want %s, got %s", describeType(err.GoType), describeKind(err.JSONKind))
	}
	return err.Error()
}

// describeType names a Go type as the JSON that would fill it.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a " + t.Kind().String()
	}
}

// describeKind names a kind of JSON value.
func describeKind(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "a list"
	default:
		return k.String()
	}
}

// fieldPath writes a JSON Pointer the way people read a path:
// "/terms/1/end" becomes "terms[1].end".
func fieldPath(pointer jsontext.Pointer) string {
	var b strings.Builder
	for token := range pointer.Tokens() {
		if _, err := strconv.Atoi(token); err == nil {
			fmt.Fprintf(&b, "[%s]", token)
			continue
		}
		if b.Len() > 0 {
			b.WriteString(".")
		}
		b.WriteString(token)
	}
	return b.String()
}

package ppn

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-json-experiment/json"
)

// MaxBodyBytes is the largest notice the contract accepts (256 KiB). The
// HTTP layer should stop reading there and answer 413 itself; Decode checks
// again so that no caller can hand it more.
const MaxBodyBytes = 256 << 10

// byteOrderMark is refused rather than skipped: RFC 8259 forbids it in
// JSON sent over a network, and a sender that adds one is likely to get
// other parts of the encoding wrong too.
var byteOrderMark = []byte("\xEF\xBB\xBF")

// Decode turns the body of POST /v1/incidents into an Incident that matches
// the PPN schema. It does not apply the rules that need reference data or
// the clock: call Validate on the result for those.
//
// Every refusal is an *Error. Its status is 400 when the body is not JSON
// Lantern will read: invalid JSON or UTF-8 (escaped lone surrogates
// included), a byte order mark, duplicate member names at any depth, member
// names the PPN does not have (a case variant such as "Force_Code"
// included), data after the document, nesting deeper than 32, numbers that
// do not fit a float64, or a NUL character in a string. It is 422 when the
// body is readable JSON that breaks the schema, and 413 when the body is
// longer than MaxBodyBytes. Any other error means the embedded schema is
// broken: a fault in Lantern, not in the notice.
func Decode(body []byte) (*Incident, error) {
	if err := checkEnvelope(body); err != nil {
		return nil, err
	}
	var s scanner
	generic, err := s.scan(body)
	if len(s.malformed) > 0 {
		return nil, malformed(s.malformed...)
	}
	if err != nil {
		return nil, fmt.Errorf("scanning the notice: %w", err)
	}
	if err := checkSchema(generic, s.invalid); err != nil {
		return nil, err
	}
	return unmarshal(body)
}

// checkEnvelope refuses what is wrong with the body as a whole before any
// of it is parsed.
func checkEnvelope(body []byte) error {
	switch {
	case len(body) > MaxBodyBytes:
		return newError(http.StatusRequestEntityTooLarge, TitleTooLarge, []FieldProblem{
			{Pointer: "", Detail: fmt.Sprintf("is longer than %d bytes", MaxBodyBytes)},
		})
	case bytes.HasPrefix(body, byteOrderMark):
		return malformed(FieldProblem{Pointer: "", Detail: "starts with a byte order mark; send UTF-8 without one"})
	case len(bytes.TrimLeft(body, " \t\r\n")) == 0:
		return malformed(FieldProblem{Pointer: "", Detail: "is empty; send one JSON object"})
	}
	return nil
}

// checkSchema validates the generic value against the PPN schema and adds
// the problems the scanner found that are of the same class.
func checkSchema(generic any, invalid []FieldProblem) error {
	schema, err := incidentSchema()
	if err != nil {
		return fmt.Errorf("loading the PPN schema: %w", err)
	}
	problems, err := schema.check(generic)
	if err != nil {
		return err
	}
	if problems = append(problems, invalid...); len(problems) > 0 {
		return schemaError(problems)
	}
	return nil
}

// unmarshal fills the Incident. The body has passed the scanner and the
// schema, so a failure here means the schema lets through something the Go
// types cannot hold; it is still the notice's fault, and is answered 422.
func unmarshal(body []byte) (*Incident, error) {
	var in Incident
	err := json.Unmarshal(body, &in, json.RejectUnknownMembers(true))
	if err == nil {
		return &in, nil
	}
	problem := FieldProblem{Pointer: "", Detail: "has a value that Lantern cannot read"}
	var serr *json.SemanticError
	if errors.As(err, &serr) {
		problem.Pointer = validPointer(serr.JSONPointer)
	}
	return nil, schemaError([]FieldProblem{problem})
}

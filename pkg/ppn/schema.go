package ppn

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/lantern-safeguarding/lantern/schemas"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// SchemaID is the $id of the JSON Schema of a notice.
const SchemaID = "https://lantern.example/schemas/http/incident.schema.json"

// schemaPath is where that schema sits in schemas.FS.
const schemaPath = "http/incident.schema.json"

// incidentSchema is the notice schema as shipped in schemas.FS, compiled
// once. Formats (date, date-time) are asserted, as Lantern's contract
// promises, rather than treated as annotations.
var incidentSchema = sync.OnceValues(func() (*compiledSchema, error) { return compileSchema(schemas.FS) })

// compiledSchema keeps the raw document beside the compiled schema so that
// refusals can quote the schema's own descriptions of what it wants.
type compiledSchema struct {
	schema *jsonschema.Schema
	doc    any
}

func compileSchema(fsys fs.FS) (*compiledSchema, error) {
	raw, err := fs.ReadFile(fsys, schemaPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", schemaPath, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", schemaPath, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, fmt.Errorf("adding %s: %w", schemaPath, err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", schemaPath, err)
	}
	return &compiledSchema{schema: sch, doc: doc}, nil
}

// check validates the generic value of a notice and returns one problem
// per failed keyword, located by its JSON pointer.
func (c *compiledSchema) check(v any) ([]FieldProblem, error) {
	err := c.schema.Validate(v)
	if err == nil {
		return nil, nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return nil, fmt.Errorf("validating against %s: %w", schemaPath, err)
	}
	var problems []FieldProblem
	for _, leaf := range leaves(verr) {
		problems = append(problems, c.describe(leaf)...)
	}
	return problems, nil
}

// leaves flattens the validator's tree of errors into the failures that
// name a keyword; the inner nodes only say "a subschema failed".
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	return appendLeaves(nil, e)
}

func appendLeaves(out []*jsonschema.ValidationError, e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, cause := range e.Causes {
		out = appendLeaves(out, cause)
	}
	return out
}

// describe words one failure without quoting the value that failed.
func (c *compiledSchema) describe(e *jsonschema.ValidationError) []FieldProblem {
	at := pointerTo(e.InstanceLocation...)
	one := func(detail string) []FieldProblem { return []FieldProblem{{Pointer: at, Detail: detail}} }
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return eachMember(e.InstanceLocation, k.Missing, "is required")
	case *kind.AdditionalProperties:
		return eachMember(e.InstanceLocation, k.Properties, "is not a field of a PPN here; unknown fields are refused")
	case *kind.Type:
		return one(fmt.Sprintf("must be %s, not %s", joinOr(k.Want), k.Got))
	case *kind.Enum:
		return one("must be one of " + joinEnum(k.Want))
	case *kind.Const:
		return one(fmt.Sprintf("must be %v", k.Want))
	case *kind.Pattern:
		return one("must be " + c.descriptionOr(e.SchemaURL, "a string matching "+k.Want))
	case *kind.Format:
		return one("must be " + c.descriptionOr(e.SchemaURL, "a valid "+k.Want))
	case *kind.MinLength:
		return one(fmt.Sprintf("must be at least %d characters long", k.Want))
	case *kind.MaxLength:
		return one(fmt.Sprintf("must be at most %d characters long", k.Want))
	case *kind.Minimum:
		return one("must be at least " + k.Want.RatString())
	case *kind.Maximum:
		return one("must be at most " + k.Want.RatString())
	case *kind.MinItems:
		return one(fmt.Sprintf("must have at least %d items", k.Want))
	case *kind.MaxItems:
		return one(fmt.Sprintf("must have at most %d items", k.Want))
	case *kind.MinProperties:
		return one(fmt.Sprintf("must have at least %d fields", k.Want))
	case *kind.FalseSchema:
		return one("is not allowed: send " + c.descriptionOr(ancestor(e.SchemaURL, 2), "nothing here"))
	default:
		return one(fmt.Sprintf("does not satisfy the schema keyword %q", strings.Join(e.ErrorKind.KeywordPath(), "/")))
	}
}

func eachMember(parent, names []string, detail string) []FieldProblem {
	problems := make([]FieldProblem, 0, len(names))
	for _, name := range names {
		problems = append(problems, FieldProblem{Pointer: pointerTo(append(parent[:len(parent):len(parent)], name)...), Detail: detail})
	}
	return problems
}

// jsonTypeNames gives each JSON Schema type an article for the message.
var jsonTypeNames = map[string]string{
	"object": "an object", "array": "an array", "string": "a string", "integer": "an integer",
	"number": "a number", "boolean": "true or false", "null": "null",
}

func joinOr(types []string) string {
	named := make([]string, len(types))
	for i, t := range types {
		named[i] = jsonTypeNames[t]
		if named[i] == "" {
			named[i] = t
		}
	}
	return strings.Join(named, " or ")
}

func joinEnum(values []any) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return strings.Join(quoted, ", ")
}

// descriptionOr returns the "description" of the schema node at url (an
// absolute location such as SchemaID#/$defs/postcode), or fallback when the
// node has none.
func (c *compiledSchema) descriptionOr(url, fallback string) string {
	_, fragment, _ := strings.Cut(url, "#")
	node := c.doc
	for tok := range strings.SplitSeq(strings.TrimPrefix(fragment, "/"), "/") {
		if tok != "" {
			node = child(node, strings.NewReplacer("~1", "/", "~0", "~").Replace(tok))
		}
	}
	obj, _ := node.(map[string]any)
	if d, ok := obj["description"].(string); ok {
		return d
	}
	return fallback
}

// child steps from a schema node to its member or element named tok, or
// to nil when there is none.
func child(node any, tok string) any {
	switch n := node.(type) {
	case map[string]any:
		return n[tok]
	case []any:
		if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n) {
			return n[i]
		}
	}
	return nil
}

// ancestor drops the last n reference tokens of a schema location, so that
// a failing `false` under then/properties/x can be explained by the `then`.
func ancestor(url string, n int) string {
	for range n {
		if i := strings.LastIndexByte(url, '/'); i >= 0 && strings.Contains(url[:i], "#") {
			url = url[:i]
		}
	}
	return url
}

func schemaError(problems []FieldProblem) *Error {
	return newError(http.StatusUnprocessableEntity, TitleSchema, problems)
}

package ppn_test

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/schemas"
)

func readSchema(t *testing.T) map[string]any {
	t.Helper()
	raw, err := fs.ReadFile(schemas.FS, "http/incident.schema.json")
	if err != nil {
		t.Fatalf("reading the schema: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parsing the schema: %v", err)
	}
	return doc
}

func TestSchemaID(t *testing.T) {
	t.Parallel()
	if got := readSchema(t)["$id"]; got != ppn.SchemaID {
		t.Errorf("$id = %v, want %s", got, ppn.SchemaID)
	}
}

// TestSchemaMatchesTypes proves that the schema and the Go types name the
// same fields at every level, that the schema closes every object, and that
// a Go integer is a schema integer.
func TestSchemaMatchesTypes(t *testing.T) {
	t.Parallel()
	doc := readSchema(t)
	compareShape(t, doc, doc, reflect.TypeFor[ppn.Incident](), "")
}

func compareShape(t *testing.T, doc, node map[string]any, typ reflect.Type, at string) {
	t.Helper()
	node = resolve(t, doc, node)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == reflect.TypeFor[time.Time]():
		if node["format"] != "date-time" {
			t.Errorf("%s: a time.Time in Go, but format %v in the schema", at, node["format"])
		}
	case typ.Kind() == reflect.Struct:
		compareObject(t, doc, node, typ, at)
	case typ.Kind() == reflect.Slice:
		if node["type"] != "array" {
			t.Errorf("%s: a slice in Go, but type %v in the schema", at, node["type"])
			return
		}
		compareShape(t, doc, node["items"].(map[string]any), typ.Elem(), at+"/0")
	case typ.Kind() == reflect.Int:
		if node["type"] != "integer" {
			t.Errorf("%s: an int in Go, but type %v in the schema", at, node["type"])
		}
	case typ.Kind() == reflect.Bool:
		if node["type"] != "boolean" {
			t.Errorf("%s: a bool in Go, but type %v in the schema", at, node["type"])
		}
	case typ.Kind() == reflect.String:
		if node["type"] != "string" && node["enum"] == nil {
			t.Errorf("%s: a string in Go, but type %v in the schema", at, node["type"])
		}
	default:
		t.Errorf("%s: Go type %s has no counterpart in this test", at, typ)
	}
}

func compareObject(t *testing.T, doc, node map[string]any, typ reflect.Type, at string) {
	t.Helper()
	if node["additionalProperties"] != false {
		t.Errorf("%s: the schema does not set additionalProperties to false", at)
	}
	props, _ := node["properties"].(map[string]any)
	var inSchema, inGo []string
	for name := range props {
		inSchema = append(inSchema, name)
	}
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		inGo = append(inGo, name)
		if prop, ok := props[name].(map[string]any); ok {
			compareShape(t, doc, prop, f.Type, at+"/"+name)
		}
	}
	slices.Sort(inSchema)
	slices.Sort(inGo)
	if diff := cmp.Diff(inGo, inSchema); diff != "" {
		t.Errorf("%s: field names differ (-go +schema):\n%s", at, diff)
	}
}

// resolve follows a local $ref such as #/$defs/adult.
func resolve(t *testing.T, doc, node map[string]any) map[string]any {
	t.Helper()
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	target := doc
	for tok := range strings.SplitSeq(strings.TrimPrefix(ref, "#/"), "/") {
		next, ok := target[tok].(map[string]any)
		if !ok {
			t.Fatalf("cannot resolve $ref %s", ref)
		}
		target = next
	}
	return resolve(t, doc, target)
}

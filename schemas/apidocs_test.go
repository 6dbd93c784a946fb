package schemas_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi/datamodel"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/schemas"
)

// openAPIModel parses openapi.yaml with libopenapi, following its file
// references, and fails on anything the parser or the OpenAPI 3.1 schema
// refuses.
func openAPIModel(t *testing.T) *v3.Document {
	t.Helper()
	spec := readFile(t, "openapi.yaml")
	doc, err := libopenapi.NewDocumentWithConfiguration(spec, &datamodel.DocumentConfiguration{
		BasePath: ".", AllowFileReferences: true, FileFilter: []string{"openapi.yaml", "http", "common"}})
	if err != nil {
		t.Fatalf("libopenapi cannot read openapi.yaml: %v", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("libopenapi cannot build a model of openapi.yaml: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("building the validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.yaml line %d: %s: %s", e.SpecLine, e.Message, e.Reason)
		}
		t.FailNow()
	}
	return &model.Model
}

func TestOpenAPIDocumentParsesAndValidates(t *testing.T) {
	model := openAPIModel(t)
	if model.Paths == nil || model.Paths.PathItems.Len() < 10 {
		t.Fatalf("the model has too few paths to be the whole document")
	}
}

// TestOpenAPISchemasHoldOnlyKeywords catches what a schema validator lets
// through, because JSON Schema allows unknown keywords: a flow-style
// description with ", " in it, which YAML reads as more keys
// (`{description: a, b}` is {description: a, b: null}), so that tools and
// code generators see properties that are not there.
func TestOpenAPISchemasHoldOnlyKeywords(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(readFile(t, "openapi.yaml"), &root); err != nil {
		t.Fatal(err)
	}
	var problems []string
	walkSchemas(root.Content[0], "#", &problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// walkSchemas finds every schema object in an OpenAPI document (under
// components/schemas and every `schema` member) and checks its keys.
func walkSchemas(n *yaml.Node, at string, problems *[]string) {
	if n.Kind != yaml.MappingNode {
		for i, c := range n.Content {
			walkSchemas(c, at+"/"+strconv.Itoa(i), problems)
		}
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		switch {
		case key == "schema":
			checkSchema(val, at+"/schema", problems)
		case key == "schemas" && strings.HasSuffix(at, "/components"):
			for j := 0; j+1 < len(val.Content); j += 2 {
				checkSchema(val.Content[j+1], at+"/schemas/"+val.Content[j].Value, problems)
			}
		default:
			walkSchemas(val, at+"/"+key, problems)
		}
	}
}

// schemaKeywords are JSON Schema 2020-12's keywords and the OpenAPI 3.1
// schema object's own.
var schemaKeywords = strings.Fields(`$schema $id $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs
	allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties patternProperties
	additionalProperties propertyNames unevaluatedItems unevaluatedProperties type enum const multipleOf maximum
	exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern maxItems minItems uniqueItems maxContains
	minContains maxProperties minProperties required dependentRequired format contentEncoding contentMediaType
	contentSchema title description default deprecated readOnly writeOnly examples
	discriminator xml externalDocs example`)

func checkSchema(n *yaml.Node, at string, problems *[]string) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		if !slices.Contains(schemaKeywords, key) && !strings.HasPrefix(key, "x-") {
			*problems = append(*problems, fmt.Sprintf("%s/%s (line %d): %q is no schema keyword", at, key, n.Content[i].Line, key))
		}
		switch key {
		case "properties", "patternProperties", "$defs", "dependentSchemas":
			for j := 0; j+1 < len(val.Content); j += 2 {
				checkSchema(val.Content[j+1], at+"/"+key+"/"+val.Content[j].Value, problems)
			}
		case "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
			"unevaluatedItems", "unevaluatedProperties", "contentSchema":
			checkSchema(val, at+"/"+key, problems)
		case "allOf", "anyOf", "oneOf", "prefixItems":
			for j, c := range val.Content {
				checkSchema(c, at+"/"+key+"/"+strconv.Itoa(j), problems)
			}
		}
	}
}

// route is one HTTP operation, its path's parameters unnamed.
type route struct{ method, path string }

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

func normalise(method, path string) route {
	path = strings.TrimSuffix(path, "{$}")
	return route{strings.ToUpper(method), wildcard.ReplaceAllString(path, "{}")}
}

// TestOpenAPIDocumentsEveryRegisteredRoute compares the API routes the
// services register (every "METHOD /v1/…" pattern in their code) with the
// operations of the OpenAPI document, both ways. The HTML pages and the
// development identity provider are not part of the API.
func TestOpenAPIDocumentsEveryRegisteredRoute(t *testing.T) {
	registered := registeredRoutes(t, filepath.Join("..", "services"))
	if len(registered) < 15 {
		t.Fatalf("found only %d API routes in the services' code: %v", len(registered), registered)
	}
	for _, want := range []route{{"POST", "/v1/incidents"}, {"GET", "/v1/workspace/mash/queue"}, {"GET", "/v1/audit/report"}} {
		if _, ok := registered[want]; !ok {
			t.Fatalf("the scan missed %v: it no longer sees how services register routes", want)
		}
	}
	documented := map[route]bool{}
	model := openAPIModel(t)
	for path, item := range model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[normalise(method, path)] = true
		}
	}
	for r, where := range registered {
		if !documented[r] {
			t.Errorf("%s %s, registered in %s, is not in openapi.yaml", r.method, r.path, where)
		}
	}
	for r := range documented {
		if _, ok := registered[r]; !ok {
			t.Errorf("openapi.yaml documents %s %s, which no service registers", r.method, r.path)
		}
	}
}

var apiPattern = regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE) (/v1/\S*)$`)

// registeredRoutes reads the services' Go files (not tests) and returns
// every call whose first argument is a constant "METHOD /v1/…" pattern,
// with the file it is in. Constants are followed within a package and
// across packages by name.
func registeredRoutes(t *testing.T, dir string) map[route]string {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		files = append(files, f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	consts := stringConstants(files)
	routes := map[route]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if s, ok := evalString(call.Args[0], f.Name.Name, consts); ok {
				if m := apiPattern.FindStringSubmatch(s); m != nil {
					routes[normalise(m[1], m[2])] = fset.Position(call.Pos()).String()
				}
			}
			return true
		})
	}
	return routes
}

// stringConstants maps "package.Name" to the value of every string
// constant declared at package level.
func stringConstants(files []*ast.File) map[string]string {
	consts := map[string]string{}
	for range 3 { // constants defined from other constants, a few levels deep
		for _, f := range files {
			for _, decl := range f.Decls {
				gen, ok := decl.(*ast.GenDecl)
				if !ok || gen.Tok != token.CONST {
					continue
				}
				for _, spec := range gen.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							if s, ok := evalString(vs.Values[i], f.Name.Name, consts); ok {
								consts[f.Name.Name+"."+name.Name] = s
							}
						}
					}
				}
			}
		}
	}
	return consts
}

func evalString(e ast.Expr, pkg string, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		s, ok := consts[pkg+"."+e.Name]
		return s, ok
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			s, ok := consts[x.Name+"."+e.Sel.Name]
			return s, ok
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, okA := evalString(e.X, pkg, consts)
			b, okB := evalString(e.Y, pkg, consts)
			return a + b, okA && okB
		}
	case *ast.ParenExpr:
		return evalString(e.X, pkg, consts)
	}
	return "", false
}

// asyncAPISchemaDir holds the AsyncAPI specification's JSON Schemas, as
// the npm package @asyncapi/specs ships them (scripts/install-npm-packages.sh).
var asyncAPISchemaDir = filepath.Join("..", "scripts", "npm", "node_modules", "@asyncapi", "specs", "schemas")

// asyncAPIDocument is asyncapi.yaml as JSON values, validated against the
// AsyncAPI 3.0.0 schema.
func asyncAPIDocument(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(asyncAPISchemaDir, "3.0.0.json"))
	if err != nil {
		t.Fatalf("the AsyncAPI 3.0.0 schema is missing (run scripts/install-npm-packages.sh): %v", err)
	}
	meta, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const id = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
	if err := c.AddResource(id, meta); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compiling the AsyncAPI 3.0.0 schema: %v", err)
	}
	var doc any
	if err := yaml.Unmarshal(readFile(t, "asyncapi.yaml"), &doc); err != nil {
		t.Fatalf("asyncapi.yaml is not YAML: %v", err)
	}
	asJSON, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(asJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("asyncapi.yaml is not a valid AsyncAPI 3.0.0 document:\n%v", err)
	}
	return inst.(map[string]any)
}

// TestAsyncAPIDocumentValidatesAndNamesEveryEventType checks the document
// against the AsyncAPI 3.0.0 schema, and that it has a message for every
// event type in the catalogue, the list every publisher is checked against.
func TestAsyncAPIDocumentValidatesAndNamesEveryEventType(t *testing.T) {
	doc := asyncAPIDocument(t)
	messages, _ := doc["components"].(map[string]any)["messages"].(map[string]any)
	var got, want []string
	for _, m := range messages {
		if name, ok := m.(map[string]any)["name"].(string); ok {
			got = append(got, name)
		}
	}
	for _, spec := range events.Catalogue() {
		want = append(want, string(spec.Type))
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AsyncAPI message names (-catalogue +document):\n%s", diff)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

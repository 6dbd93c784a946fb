package eventschema_test

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/lantern-safeguarding/lantern/schemas"
)

// TestAPIDocumentsReferToShippedSchemas proves that every schema the
// AsyncAPI and OpenAPI documents point at is a file that is shipped and
// compiled, so the documents and the validators describe the same bodies.
func TestAPIDocumentsReferToShippedSchemas(t *testing.T) {
	ids := compiled(t).IDs()
	for _, doc := range []string{"asyncapi.yaml", "openapi.yaml"} {
		t.Run(doc, func(t *testing.T) {
			refs := fileRefs(readYAML(t, doc))
			if len(refs) == 0 {
				t.Fatalf("%s refers to no schema file", doc)
			}
			for _, ref := range refs {
				id := schemas.BaseURL + path.Clean(strings.TrimPrefix(ref, "./"))
				if !slices.Contains(ids, id) {
					t.Errorf("%s refers to %s, which is not a compiled schema", doc, ref)
				}
			}
		})
	}
}

// TestOpenAPIDocumentsContractResponses keeps the OpenAPI document in step
// with the response codes of contract.md section 1.
func TestOpenAPIDocumentsContractResponses(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := readYAML(t, "openapi.yaml").Decode(&doc); err != nil {
		t.Fatalf("decoding openapi.yaml: %v", err)
	}
	cases := []struct {
		path, method string
		want         []string
	}{
		{"/v1/incidents", "post", []string{"200", "202", "400", "401", "403", "409", "413", "415", "422", "429", "503"}},
		{"/v1/incidents/{id}", "get", []string{"200", "401", "403", "404", "429", "503"}},
		{"/v1/incidents/{id}/timeline", "get", []string{"200", "401", "403", "404", "503"}},
	}
	for _, tc := range cases {
		op := doc.Paths[tc.path][tc.method]
		var operation struct {
			Responses map[string]any `yaml:"responses"`
		}
		if err := op.Decode(&operation); err != nil {
			t.Fatalf("decoding %s %s: %v", tc.method, tc.path, err)
		}
		var got []string
		for code := range operation.Responses {
			got = append(got, code)
		}
		slices.Sort(got)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s %s responses (-want +got):\n%s", tc.method, tc.path, diff)
		}
	}
}

func readYAML(t *testing.T, name string) *yaml.Node {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, name)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		t.Fatalf("%s is not valid YAML: %v", name, err)
	}
	return &n
}

// fileRefs returns every $ref in n that points at another file rather than
// inside the document itself.
func fileRefs(n *yaml.Node) []string {
	var refs []string
	for i := 0; i+1 < len(n.Content); i++ {
		k, v := n.Content[i], n.Content[i+1]
		if n.Kind == yaml.MappingNode && i%2 == 0 && k.Value == "$ref" && !strings.HasPrefix(v.Value, "#") {
			refs = append(refs, v.Value)
		}
	}
	for _, c := range n.Content {
		refs = append(refs, fileRefs(c)...)
	}
	return refs
}

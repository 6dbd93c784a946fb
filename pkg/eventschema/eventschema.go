// Package eventschema validates documents against Lantern's JSON Schemas:
// the data of every event in the catalogue, the HTTP bodies and the
// CloudEvents envelope. The schemas are the files embedded in the schemas
// module, compiled once; a $ref is resolved only against those files, never
// fetched from the network, so validation behaves the same offline and
// cannot be changed by anything outside the release.
package eventschema

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/schemas"
)

// Schema ids of the documents that are not event data.
const (
	CloudEventID       = schemas.BaseURL + "common/cloudevent.schema.json"
	IncidentID         = schemas.BaseURL + "http/incident.schema.json"
	IncidentAcceptedID = schemas.BaseURL + "http/incident-accepted.schema.json"
	IncidentRecordID   = schemas.BaseURL + "http/incident-record.schema.json"
	ProblemID          = schemas.BaseURL + "http/problem.schema.json"
	TimelineID         = schemas.BaseURL + "http/timeline.schema.json"
)

// dialect is the only JSON Schema draft Lantern's schemas are written in.
const dialect = "https://json-schema.org/draft/2020-12/schema"

// schemaSuffix marks the files of FS that are schemas; the examples and the
// API documents are not.
const schemaSuffix = ".schema.json"

var (
	// ErrUnknownSchema is returned for a schema id or event type that has no
	// schema in the set.
	ErrUnknownSchema = errors.New("unknown schema")
	// ErrMalformed is returned for a document that is not a single JSON value.
	ErrMalformed = errors.New("malformed JSON document")
)

// DataSchemaID returns the $id of the schema of the data of events of type t.
func DataSchemaID(t events.Type) string {
	return schemas.BaseURL + "events/" + string(t) + schemaSuffix
}

// Set is a compiled set of schemas. It is immutable once built and safe for
// concurrent use.
type Set struct {
	byID map[string]*jsonschema.Schema
}

// Compile reads every *.schema.json file of fsys and compiles it. Each
// file's $id must be schemas.BaseURL followed by its path, so that relative
// references between files mean the same on disk and by id; a reference to
// anything outside fsys is an error.
func Compile(fsys fs.FS) (*Set, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(embeddedOnly{})
	ids, err := addResources(c, fsys)
	if err != nil {
		return nil, err
	}
	set := &Set{byID: make(map[string]*jsonschema.Schema, len(ids))}
	for _, id := range ids {
		sch, err := c.Compile(id)
		if err != nil {
			return nil, fmt.Errorf("compiling schema %s: %w", id, err)
		}
		set.byID[id] = sch
	}
	return set, nil
}

// addResources registers every schema file of fsys with c under its $id and
// returns the ids in path order.
func addResources(c *jsonschema.Compiler, fsys fs.FS) ([]string, error) {
	var ids []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path.Base(p), schemaSuffix) {
			return nil
		}
		id, doc, err := readSchema(fsys, p)
		if err != nil {
			return err
		}
		if err := c.AddResource(id, doc); err != nil {
			return fmt.Errorf("adding schema %s: %w", p, err)
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading schemas: %w", err)
	}
	return ids, nil
}

// readSchema decodes the schema file at p and checks its $schema and $id.
func readSchema(fsys fs.FS, p string) (string, any, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", nil, fmt.Errorf("opening schema %s: %w", p, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return "", nil, fmt.Errorf("decoding schema %s: %w", p, err)
	}
	obj, _ := doc.(map[string]any)
	if got, _ := obj["$schema"].(string); got != dialect {
		return "", nil, fmt.Errorf("schema %s: $schema is %q, want %q", p, got, dialect)
	}
	want := schemas.BaseURL + p
	if got, _ := obj["$id"].(string); got != want {
		return "", nil, fmt.Errorf("schema %s: $id is %q, want %q", p, got, want)
	}
	return want, doc, nil
}

// embeddedOnly refuses every URL the compiler was not given, so that a $ref
// to a missing file fails at compile time instead of reaching the network.
type embeddedOnly struct{}

func (embeddedOnly) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not in Lantern's embedded schemas", url)
}

// Compiled returns the set compiled from the schemas shipped in the schemas
// module. It compiles on first use and returns the same set, or the same
// error, ever after.
func Compiled() (*Set, error) { return compiled() }

var compiled = sync.OnceValues(func() (*Set, error) {
	return Compile(schemas.FS)
})

// IDs returns the $id of every schema in the set, sorted.
func (s *Set) IDs() []string {
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Validate checks doc against the schema whose $id is schemaID. It returns
// a *ValidationError listing every failure when doc does not match,
// ErrMalformed when doc is not one JSON value, and ErrUnknownSchema when the
// set has no such schema.
func (s *Set) Validate(schemaID string, doc []byte) error {
	sch, ok := s.byID[schemaID]
	if !ok {
		return fmt.Errorf("validating against %s: %w", schemaID, ErrUnknownSchema)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("validating against %s: %w: %w", schemaID, ErrMalformed, err)
	}
	err = sch.Validate(v)
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		return &ValidationError{SchemaID: schemaID, Failures: failures(verr)}
	}
	if err != nil {
		return fmt.Errorf("validating against %s: %w", schemaID, err)
	}
	return nil
}

// ValidateData checks the data of an event of type t against its schema.
func (s *Set) ValidateData(t events.Type, data []byte) error {
	if _, ok := events.Lookup(t); !ok {
		return fmt.Errorf("validating data of %q: %w", t, ErrUnknownSchema)
	}
	return s.Validate(DataSchemaID(t), data)
}

// Validate checks doc against the shipped schema whose $id is schemaID; see
// Set.Validate.
func Validate(schemaID string, doc []byte) error {
	set, err := Compiled()
	if err != nil {
		return err
	}
	return set.Validate(schemaID, doc)
}

// ValidateData checks the data of an event of type t against its shipped
// schema; see Set.Validate.
func ValidateData(t events.Type, data []byte) error {
	set, err := Compiled()
	if err != nil {
		return err
	}
	return set.ValidateData(t, data)
}

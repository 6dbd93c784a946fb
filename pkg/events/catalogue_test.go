package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
	"github.com/lantern-safeguarding/lantern/schemas"
)

// The tests in this file prove that the Go catalogue, the JSON Schemas, the
// examples and the AsyncAPI document describe the same events, so none of
// them can change without the others.

func TestEveryTypeHasExactlyOneSchemaAndOneExample(t *testing.T) {
	cases := []struct {
		dir, suffix string
	}{
		{"events", ".schema.json"},
		{"examples", ".json"},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			var want []string
			for _, spec := range events.Catalogue() {
				want = append(want, string(spec.Type)+tc.suffix)
			}
			slices.Sort(want)
			entries, err := fs.ReadDir(schemas.FS, tc.dir)
			if err != nil {
				t.Fatalf("listing %s: %v", tc.dir, err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files in %s (-want +got):\n%s", tc.dir, diff)
			}
		})
	}
}

func TestEveryTypeHasGoData(t *testing.T) {
	for _, spec := range events.Catalogue() {
		v, ok := events.NewData(spec.Type)
		if !ok || reflect.TypeOf(v).Kind() != reflect.Pointer || reflect.TypeOf(v).Elem().Kind() != reflect.Struct {
			t.Errorf("NewData(%s) = %T, %v; want a pointer to a struct", spec.Type, v, ok)
		}
	}
}

// envelope is a structured-mode CloudEvent with exactly the attributes
// Lantern sets; decoding with unknown fields disallowed keeps the examples to
// that set.
type envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            events.Type     `json:"type"`
	Subject         string          `json:"subject"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	IncidentID      string          `json:"incidentid"`
	Actor           string          `json:"actor"`
	Data            json.RawMessage `json:"data"`
}

// dataKeys are the members of the data that the envelope repeats.
type dataKeys struct {
	IncidentID     string            `json:"incident_id"`
	NotificationID string            `json:"notification_id"`
	Recipient      *events.Recipient `json:"recipient"`
}

func TestExamplesAreValidEvents(t *testing.T) {
	sources := []string{events.SourceIntake, events.SourceRouter, events.SourceDelivery,
		events.SourceWorkspace, events.SourceEscalation, events.SourceLedger}
	for _, spec := range events.Catalogue() {
		t.Run(string(spec.Type), func(t *testing.T) {
			raw := readExample(t, spec.Type)
			if err := eventschema.Validate(eventschema.CloudEventID, raw); err != nil {
				t.Errorf("envelope: %v", err)
			}
			var env envelope
			strictDecode(t, raw, &env)
			if env.Type != spec.Type {
				t.Errorf("type = %q, want %q", env.Type, spec.Type)
			}
			if !slices.Contains(sources, env.Source) {
				t.Errorf("source = %q, want one of %v", env.Source, sources)
			}
			var keys dataKeys
			if err := json.Unmarshal(env.Data, &keys); err != nil {
				t.Fatalf("decoding data keys: %v", err)
			}
			if env.IncidentID != keys.IncidentID {
				t.Errorf("incidentid = %q, data.incident_id = %q; want them equal", env.IncidentID, keys.IncidentID)
			}
			if want := subjectOf(spec, keys); env.Subject != want {
				t.Errorf("subject = %q, want %q", env.Subject, want)
			}
			if spec.PerRecipient {
				if keys.Recipient == nil {
					t.Fatalf("per-recipient event without data.recipient")
				}
				if _, err := events.Subject(spec.Type, keys.Recipient.Kind); err != nil {
					t.Errorf("no NATS subject for the example's recipient: %v", err)
				}
			}
			if err := eventschema.ValidateData(spec.Type, env.Data); err != nil {
				t.Errorf("data: %v", err)
			}
		})
	}
}

// subjectOf returns what the subject of an event must be: the notification
// id for events about one notification, the incident id otherwise.
func subjectOf(spec events.Spec, keys dataKeys) string {
	if spec.PerRecipient {
		return keys.NotificationID
	}
	return keys.IncidentID
}

// TestExamplesRoundTripThroughGo decodes each example's data into the Go
// struct, refusing unknown fields, and encodes it again: a field the schema
// and example have but Go lacks, or one Go would write differently, fails.
func TestExamplesRoundTripThroughGo(t *testing.T) {
	for _, spec := range events.Catalogue() {
		t.Run(string(spec.Type), func(t *testing.T) {
			var env envelope
			strictDecode(t, readExample(t, spec.Type), &env)
			v, _ := events.NewData(spec.Type)
			strictDecode(t, env.Data, v)
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("encoding %T: %v", v, err)
			}
			if diff := cmp.Diff(decodeAny(t, env.Data), decodeAny(t, again)); diff != "" {
				t.Errorf("data after a Go round trip (-example +Go):\n%s", diff)
			}
		})
	}
}

// TestSchemaPropertiesMatchGoFields compares each schema's properties with
// the JSON fields of its Go struct: the same names, and required exactly
// where Go always writes the field (no omitempty).
func TestSchemaPropertiesMatchGoFields(t *testing.T) {
	cases := []struct {
		name   string
		schema string
		defs   string
		goType reflect.Type
	}{
		{name: "recipient", schema: "common/defs.schema.json", defs: "recipient", goType: reflect.TypeFor[events.Recipient]()},
		{name: "person", schema: "common/defs.schema.json", defs: "person", goType: reflect.TypeFor[events.Person]()},
	}
	for _, spec := range events.Catalogue() {
		v, _ := events.NewData(spec.Type)
		cases = append(cases, struct {
			name   string
			schema string
			defs   string
			goType reflect.Type
		}{string(spec.Type), "events/" + string(spec.Type) + ".schema.json", "", reflect.TypeOf(v).Elem()})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := readSchemaObject(t, tc.schema, tc.defs)
			wantAll, wantRequired := jsonFields(tc.goType)
			if diff := cmp.Diff(wantAll, obj.propertyNames()); diff != "" {
				t.Errorf("schema properties (-Go +schema):\n%s", diff)
			}
			if diff := cmp.Diff(wantRequired, obj.sortedRequired()); diff != "" {
				t.Errorf("schema required (-Go without omitempty +schema):\n%s", diff)
			}
		})
	}
}

// TestSchemaEnumsMatchGoConstants keeps every closed list of values in the
// schemas equal to the constants Go code switches on.
func TestSchemaEnumsMatchGoConstants(t *testing.T) {
	kinds := make([]string, 0, len(events.RecipientKinds()))
	for _, k := range events.RecipientKinds() {
		kinds = append(kinds, string(k))
	}
	cases := []struct {
		name, schema, defs, property string
		want                         []string
	}{
		{"recipient kinds", "common/defs.schema.json", "recipientKind", "", kinds},
		{"RAG", "events/org.lantern.triage.decided.v1.schema.json", "rag", "",
			[]string{events.RAGRed, events.RAGAmber, events.RAGGreen}},
		{"decisions", "events/org.lantern.triage.decided.v1.schema.json", "", "decision",
			[]string{events.DecisionNoFurtherAction, events.DecisionEarlyHelp, events.DecisionSection17,
				events.DecisionSection47, events.DecisionMARACReferral}},
		{"calendars", "events/org.lantern.notification.requested.v1.schema.json", "", "calendar",
			[]string{string(calendar.Clock), string(calendar.MASHHours), string(calendar.WorkingDay),
				string(calendar.SchoolDay)}},
		{"SLA steps at risk", "events/org.lantern.sla.at_risk.v1.schema.json", "", "step",
			[]string{events.StepDelivery, events.StepAcknowledgement, events.StepTriage}},
		{"SLA steps breached", "events/org.lantern.sla.breached.v1.schema.json", "", "step",
			[]string{events.StepDelivery, events.StepAcknowledgement, events.StepTriage, events.StepReceipt}},
		{"access outcomes", "events/org.lantern.access.recorded.v1.schema.json", "", "outcome",
			[]string{events.AccessAllowed, events.AccessRefused}},
		{"access refusals", "events/org.lantern.access.recorded.v1.schema.json", "", "refusal",
			[]string{events.RefusalRole, events.RefusalOrganisation, events.RefusalNotFound}},
		{"access channels", "events/org.lantern.access.recorded.v1.schema.json", "", "via",
			[]string{events.AccessViaPage, events.AccessViaAPI}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := readSchemaObject(t, tc.schema, tc.defs)
			if tc.property != "" {
				obj = obj.Properties[tc.property]
			}
			if obj.Enum == nil && len(obj.AnyOf) > 0 {
				// An open list (recipient kinds): the closed part first.
				obj = obj.AnyOf[0]
			}
			if diff := cmp.Diff(tc.want, obj.Enum); diff != "" {
				t.Errorf("enum (-Go +schema):\n%s", diff)
			}
		})
	}
}

// TestAsyncAPIDescribesTheCatalogue checks that the AsyncAPI document has one
// channel per catalogue type, on the catalogue's subject, carrying that
// type's schema, and lists the same recipient kinds.
func TestAsyncAPIDescribesTheCatalogue(t *testing.T) {
	doc := readAsyncAPI(t)
	want := map[string]asyncChannel{}
	for _, spec := range events.Catalogue() {
		address := spec.SubjectPrefix
		if spec.PerRecipient {
			address += ".{recipient_kind}"
		}
		want[string(spec.Type)] = asyncChannel{Address: address, Payload: "./events/" + string(spec.Type) + ".schema.json"}
	}
	got := map[string]asyncChannel{}
	for id, ch := range doc.Channels {
		msgName := strings.TrimPrefix(ch.Messages[id].Ref, "#/components/messages/")
		msg := doc.Components.Messages[msgName]
		got[msg.Name] = asyncChannel{Address: ch.Address, Payload: msg.Payload.Schema.Ref}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AsyncAPI channels by message name (-catalogue +document):\n%s", diff)
	}
	var kinds []string
	for _, k := range events.RecipientKinds() {
		kinds = append(kinds, string(k))
	}
	examples := doc.Components.Parameters["recipientKind"].Examples
	if diff := cmp.Diff(kinds, examples[:min(len(kinds), len(examples))]); diff != "" {
		t.Errorf("recipient_kind parameter (-Go +document):\n%s", diff)
	}
}

// TestSchemasRejectBrokenData gives each schema at least one document that
// must fail, and checks the failure is reported at the right pointer.
func TestSchemasRejectBrokenData(t *testing.T) {
	cases := []struct {
		typ    events.Type
		name   string
		mutate func(d map[string]any)
		want   []string
	}{
		{events.IncidentReported, "received_at missing",
			func(d map[string]any) { delete(d, "received_at") }, []string{"/received_at"}},
		{events.IncidentReported, "incident without DASH",
			func(d map[string]any) { delete(object(d, "incident"), "dash") }, []string{"/incident/dash"}},
		{events.NotificationRequested, "recipient kind missing",
			func(d map[string]any) { delete(object(d, "recipient"), "kind") }, []string{"/recipient/kind"}},
		{events.NotificationRequested, "school notice with DASH level",
			func(d map[string]any) { object(d, "notice")["dash_level"] = "medium" }, []string{"/notice/dash_level"}},
		{events.NotificationDelivered, "delivered_at missing",
			func(d map[string]any) { delete(d, "delivered_at") }, []string{"/delivered_at"}},
		{events.NotificationAcknowledged, "acknowledged by nobody",
			func(d map[string]any) { delete(object(d, "acknowledged_by"), "user_id") }, []string{"/acknowledged_by/user_id"}},
		{events.NotificationFailed, "negative attempts",
			func(d map[string]any) { d["attempts"] = -1 }, []string{"/attempts"}},
		{events.TriageDecided, "override without reason",
			func(d map[string]any) { delete(d, "rag_reason") }, []string{"/rag_reason"}},
		{events.TriageDecided, "unknown decision",
			func(d map[string]any) { d["decision"] = "wait_and_see" }, []string{"/decision"}},
		{events.SLAAtRisk, "unknown step",
			func(d map[string]any) { d["step"] = "lunch" }, []string{"/step"}},
		{events.SLABreached, "unknown field",
			func(d map[string]any) { d["minutes_late"] = 1 }, []string{"/minutes_late"}},
		{events.IncidentShredded, "no retention policy",
			func(d map[string]any) { delete(d, "retention_policy") }, []string{"/retention_policy"}},
		{events.AccessRecorded, "refusal without its reason",
			func(d map[string]any) { d["outcome"] = "refused" }, []string{"/refusal"}},
		{events.AccessRecorded, "unknown outcome",
			func(d map[string]any) { d["outcome"] = "peeked" }, []string{"/outcome"}},
	}
	covered := map[events.Type]bool{}
	for _, tc := range cases {
		covered[tc.typ] = true
		t.Run(string(tc.typ)+"/"+tc.name, func(t *testing.T) {
			var env struct {
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(readExample(t, tc.typ), &env); err != nil {
				t.Fatalf("decoding example: %v", err)
			}
			tc.mutate(env.Data)
			data, err := json.Marshal(env.Data)
			if err != nil {
				t.Fatalf("encoding data: %v", err)
			}
			err = eventschema.ValidateData(tc.typ, data)
			var verr *eventschema.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("ValidateData() = %v, want a *ValidationError", err)
			}
			if diff := cmp.Diff(tc.want, verr.Pointers()); diff != "" {
				t.Errorf("failure pointers (-want +got):\n%s", diff)
			}
		})
	}
	for _, spec := range events.Catalogue() {
		if !covered[spec.Type] {
			t.Errorf("no broken-data case for %s", spec.Type)
		}
	}
}

func object(d map[string]any, key string) map[string]any {
	m, _ := d[key].(map[string]any)
	return m
}

func readExample(t *testing.T, typ events.Type) []byte {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, "examples/"+string(typ)+".json")
	if err != nil {
		t.Fatalf("reading example: %v", err)
	}
	return b
}

// strictDecode decodes b into v as a consumer would: unknown fields and
// trailing data are errors.
func strictDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding into %T: %v", v, err)
	}
	if dec.More() {
		t.Fatalf("decoding into %T: data after the value", v)
	}
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding JSON: %v", err)
	}
	return v
}

// schemaObject is the part of a JSON Schema these tests compare with Go.
type schemaObject struct {
	Properties map[string]schemaObject `json:"properties"`
	Required   []string                `json:"required"`
	Enum       []string                `json:"enum"`
	AnyOf      []schemaObject          `json:"anyOf"`
	Defs       map[string]schemaObject `json:"$defs"`
}

func (s schemaObject) propertyNames() []string {
	var names []string
	for name := range s.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func (s schemaObject) sortedRequired() []string {
	return slices.Sorted(slices.Values(s.Required))
}

// readSchemaObject reads the schema file at p, or its $defs entry def when
// def is not empty.
func readSchemaObject(t *testing.T, p, def string) schemaObject {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, p)
	if err != nil {
		t.Fatalf("reading schema: %v", err)
	}
	var s schemaObject
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("decoding schema %s: %v", p, err)
	}
	if def == "" {
		return s
	}
	d, ok := s.Defs[def]
	if !ok {
		t.Fatalf("schema %s has no $defs/%s", p, def)
	}
	return d
}

// jsonFields returns the JSON names of the fields of struct type typ, sorted,
// and those of them Go always writes.
func jsonFields(typ reflect.Type) (all, always []string) {
	for f := range typ.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		all = append(all, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") {
			always = append(always, name)
		}
	}
	slices.Sort(all)
	slices.Sort(always)
	return all, always
}

type asyncChannel struct {
	Address string
	Payload string
}

type asyncRef struct {
	Ref string `yaml:"$ref"`
}

type asyncDoc struct {
	Channels map[string]struct {
		Address  string              `yaml:"address"`
		Messages map[string]asyncRef `yaml:"messages"`
	} `yaml:"channels"`
	Components struct {
		Parameters map[string]struct {
			Examples []string `yaml:"examples"`
		} `yaml:"parameters"`
		Messages map[string]struct {
			Name    string `yaml:"name"`
			Payload struct {
				Schema asyncRef `yaml:"schema"`
			} `yaml:"payload"`
		} `yaml:"messages"`
	} `yaml:"components"`
}

func readAsyncAPI(t *testing.T) asyncDoc {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, "asyncapi.yaml")
	if err != nil {
		t.Fatalf("reading asyncapi.yaml: %v", err)
	}
	var doc asyncDoc
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("decoding asyncapi.yaml: %v", err)
	}
	return doc
}

// TestDeclaredKindsStayPlainSubjectTokens: a kind a partnership declares
// is accepted only as lowercase words joined by single underscores, so no
// declared kind can put a dot or a wildcard into a subject.
func TestDeclaredKindsStayPlainSubjectTokens(t *testing.T) {
	for kind, want := range map[events.RecipientKind]bool{
		"mash": true, "domestic_abuse_service": true, "youth": true,
		"": false, "Youth": false, "youth-offending": false, "youth__offending": false, "_youth": false, "youth_": false,
		"sg.>": false, "a*": false, "team2": false, "abcdefghijklmnopqrstuvwxyzabcdefg": false,
	} {
		if got := kind.Valid(); got != want {
			t.Errorf("%q valid = %v, want %v", kind, got, want)
		}
		subject, err := events.Subject(events.NotificationRequested, kind)
		if want && (err != nil || subject != "sg.notification.requested."+string(kind)) {
			t.Errorf("subject of %q = %q, %v", kind, subject, err)
		}
		if !want && err == nil {
			t.Errorf("subject of %q = %q, want an error", kind, subject)
		}
	}
	if events.IsBuiltinKind("domestic_abuse_service") || !events.IsBuiltinKind(events.KindIDVA) {
		t.Error("IsBuiltinKind does not tell the contract's kinds from declared ones")
	}
}

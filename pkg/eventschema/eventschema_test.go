package eventschema_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
	"github.com/lantern-safeguarding/lantern/schemas"
)

func TestCompiledHoldsEveryShippedSchema(t *testing.T) {
	set := compiled(t)
	want := []string{
		eventschema.CloudEventID,
		schemas.BaseURL + "common/defs.schema.json",
	}
	for _, spec := range events.Catalogue() {
		want = append(want, eventschema.DataSchemaID(spec.Type))
	}
	want = append(want, eventschema.IncidentAcceptedID, eventschema.IncidentRecordID,
		eventschema.IncidentID, eventschema.ProblemID, eventschema.TimelineID)
	slices.Sort(want)
	if diff := cmp.Diff(want, set.IDs()); diff != "" {
		t.Errorf("compiled schema ids (-want +got):\n%s", diff)
	}
	again, err := eventschema.Compiled()
	if err != nil || again != set {
		t.Errorf("Compiled() second call = %p, %v; want the same set %p", again, err, set)
	}
}

// requestedCase mutates the example notification.requested data; want is
// the pointers of the failures, nil when the data must be valid.
type requestedCase struct {
	name   string
	mutate func(t *testing.T, data map[string]any)
	want   []string
}

func TestValidateDataChecksNoticeAgainstItsProfile(t *testing.T) {
	cases := []requestedCase{
		{name: "example as shipped", mutate: func(*testing.T, map[string]any) {}},
		{name: "profile A carries the whole PPN", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "A"
			d["notice"] = exampleData(t, events.IncidentReported)["incident"]
		}},
		{name: "profile A notice must be a valid PPN", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "A"
			d["notice"] = exampleData(t, events.IncidentReported)["incident"]
			patch(t, d, "/notice/dash", nil)
		}, want: []string{"/notice/dash"}},
		{name: "profile B with a narrative is refused", mutate: func(t *testing.T, d map[string]any) {
			patch(t, d, "/notice/circumstances", "shouting heard by neighbours")
		}, want: []string{"/notice/circumstances"}},
		{name: "profile B without DASH", mutate: func(t *testing.T, d map[string]any) {
			patch(t, d, "/notice/dash_level", "high")
		}, want: []string{"/notice/dash_level"}},
		{name: "profile B_minimal keeps only pupil and time", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "B_minimal"
			d["notice"] = map[string]any{
				"occurred_at": "2026-11-20T22:15:00Z",
				"children": []any{map[string]any{
					"person_id": "C-1", "name": "Cara Example", "date_of_birth": "2019-05-01", "present": true,
				}},
			}
		}},
		{name: "profile B_minimal refuses location and voice", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "B_minimal"
			patch(t, d, "/notice/police_reference", nil)
			patch(t, d, "/notice/force_code", nil)
		}, want: []string{"/notice/children/0/voice_of_child", "/notice/location"}},
		{name: "profile C for health", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "C"
			patch(t, d, "/notice/dash_level", "medium")
			patch(t, d, "/notice/children/0/nhs_number", "9990000018")
			patch(t, d, "/notice/adults", []any{map[string]any{
				"person_id": "P-1", "name": "Ada Example", "role": "victim", "pregnant": true,
				"expected_due_date": "2027-02-10",
			}})
		}},
		{name: "profile C needs the DASH level", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "C"
		}, want: []string{"/notice/dash_level"}},
		{name: "profile D for probation", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "D"
			d["notice"] = probationNotice()
		}},
		{name: "profile D gives ages, not dates of birth", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "D"
			d["notice"] = probationNotice()
			patch(t, d, "/notice/children/0/date_of_birth", "2019-05-01")
		}, want: []string{"/notice/children/0/date_of_birth"}},
		{name: "unknown profile", mutate: func(t *testing.T, d map[string]any) {
			d["profile"] = "E"
		}, want: []string{"/profile"}},
		{name: "unknown calendar", mutate: func(t *testing.T, d map[string]any) {
			d["calendar"] = "attendance_day"
		}, want: []string{"/calendar"}},
		{name: "deadline without offset", mutate: func(t *testing.T, d map[string]any) {
			d["due_at"] = "2026-11-23T08:30:00"
		}, want: []string{"/due_at"}},
		{name: "notification id not a UUID", mutate: func(t *testing.T, d map[string]any) {
			d["notification_id"] = "N-1"
		}, want: []string{"/notification_id"}},
		{name: "child ids null", mutate: func(t *testing.T, d map[string]any) {
			d["child_ids"] = nil
		}, want: []string{"/child_ids"}},
		{name: "empty child ids for an unborn child", mutate: func(t *testing.T, d map[string]any) {
			d["child_ids"] = []any{}
		}},
		{name: "recipient of a kind that is no plain word", mutate: func(t *testing.T, d map[string]any) {
			patch(t, d, "/recipient/kind", "parents.>")
		}, want: []string{"/recipient/kind"}},
		{name: "recipient of a kind a partnership declared", mutate: func(t *testing.T, d map[string]any) {
			patch(t, d, "/recipient/kind", "domestic_abuse_service")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := exampleData(t, events.NotificationRequested)
			tc.mutate(t, data)
			err := eventschema.ValidateData(events.NotificationRequested, mustJSON(t, data))
			if diff := cmp.Diff(tc.want, failurePointers(t, err)); diff != "" {
				t.Errorf("failure pointers (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func probationNotice() map[string]any {
	return map[string]any{
		"force_code":       "KENT",
		"police_reference": "KNT-26-990001",
		"occurred_at":      "2026-11-20T22:15:00Z",
		"dash_level":       "medium",
		"adults": []any{map[string]any{
			"person_id": "P-2", "name": "Bob Example", "role": "perpetrator", "on_probation": true,
		}},
		"children": []any{map[string]any{"person_id": "C-1", "name": "Cara Example", "age_years": 7}},
	}
}

func TestValidateDataTriageNeedsReasonToOverrideDefault(t *testing.T) {
	cases := []struct {
		name             string
		rag, defaultRAG  string
		reason           string
		wantFailureAtPtr []string
	}{
		{name: "default kept", rag: "amber", defaultRAG: "amber"},
		{name: "raised with reason", rag: "red", defaultRAG: "amber", reason: "cumulative harm"},
		{name: "lowered without reason", rag: "green", defaultRAG: "amber", wantFailureAtPtr: []string{"/rag_reason"}},
		{name: "raised without reason", rag: "red", defaultRAG: "green", wantFailureAtPtr: []string{"/rag_reason"}},
		{name: "unknown rating", rag: "blue", defaultRAG: "amber", reason: "x", wantFailureAtPtr: []string{"/rag"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := exampleData(t, events.TriageDecided)
			data["rag"], data["default_rag"] = tc.rag, tc.defaultRAG
			delete(data, "rag_reason")
			if tc.reason != "" {
				data["rag_reason"] = tc.reason
			}
			err := eventschema.ValidateData(events.TriageDecided, mustJSON(t, data))
			if diff := cmp.Diff(tc.wantFailureAtPtr, failurePointers(t, err)); diff != "" {
				t.Errorf("failure pointers (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestValidateHTTPBodies(t *testing.T) {
	cases := []struct {
		name     string
		schemaID string
		doc      string
		want     []string
	}{
		{name: "accepted", schemaID: eventschema.IncidentAcceptedID,
			doc: `{"incident_id":"273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512","status":"accepted"}`},
		{name: "accepted with another status", schemaID: eventschema.IncidentAcceptedID,
			doc: `{"incident_id":"273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512","status":"queued"}`, want: []string{"/status"}},
		{name: "problem with body and header pointers", schemaID: eventschema.ProblemID,
			doc: `{"type":"https://lantern.example/problems/invalid-incident","title":"Invalid incident","status":422,
				"instance":"/v1/incidents","errors":[{"pointer":"/children/0/date_of_birth","detail":"after the incident"},
				{"pointer":"","detail":"trailing data"},{"pointer":"header:Idempotency-Key","detail":"too long"}],"trace":"extension"}`},
		{name: "problem pointer without slash", schemaID: eventschema.ProblemID,
			doc:  `{"type":"about:blank","title":"Invalid","status":422,"errors":[{"pointer":"children/0","detail":"bad"}]}`,
			want: []string{"/errors/0/pointer"}},
		{name: "problem without status", schemaID: eventschema.ProblemID,
			doc: `{"type":"about:blank","title":"Invalid"}`, want: []string{"/status"}},
		{name: "timeline", schemaID: eventschema.TimelineID, doc: timelineDoc("user:u-5e01c2")},
		{name: "timeline step without actor", schemaID: eventschema.TimelineID, doc: timelineDoc(""),
			want: []string{"/steps/1/actor"}},
		{name: "incident record", schemaID: eventschema.IncidentRecordID, doc: incidentRecordDoc(t, "accepted")},
		{name: "incident record without status", schemaID: eventschema.IncidentRecordID, doc: incidentRecordDoc(t, ""),
			want: []string{"/status"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := eventschema.Validate(tc.schemaID, []byte(tc.doc))
			if diff := cmp.Diff(tc.want, failurePointers(t, err)); diff != "" {
				t.Errorf("failure pointers (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func incidentRecordDoc(t *testing.T, status string) string {
	rec := exampleData(t, events.IncidentReported)
	if status != "" {
		rec["status"] = status
	}
	return string(mustJSON(t, rec))
}

func timelineDoc(ackActor string) string {
	ack := map[string]any{
		"event_id": "cce25237-9670-4883-93e5-fd94a64f5230", "type": string(events.NotificationAcknowledged),
		"seq": 7, "time": "2026-11-23T07:52:00Z", "subject": "91070054-ba23-4568-a187-f62054966f2e", "rule_id": "R8",
		"recipient": map[string]any{"kind": "school", "id": "999001", "name": "Example Primary School"},
		"due_at":    "2026-11-23T08:30:00Z",
	}
	if ackActor != "" {
		ack["actor"] = ackActor
	}
	b, _ := json.Marshal(map[string]any{
		"incident_id": "273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512",
		"steps": []any{
			map[string]any{"seq": 1, "event_id": "a101f701-7cbe-497b-8a2b-56a2c7ff2b51", "type": string(events.IncidentReported),
				"time": "2026-11-20T22:40:02Z", "actor": "police:KENT", "subject": "273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512"},
			ack,
		},
	})
	return string(b)
}

func TestValidateReportsPointersOfForbiddenAndMissingProperties(t *testing.T) {
	data := exampleData(t, events.NotificationAcknowledged)
	patch(t, data, "/recipient/phone~1mobile", "01632 960001")
	patch(t, data, "/acknowledged_by/user_id", nil)

	err := eventschema.ValidateData(events.NotificationAcknowledged, mustJSON(t, data))

	var verr *eventschema.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("ValidateData() = %v, want a *ValidationError", err)
	}
	want := []eventschema.Failure{
		{Pointer: "/acknowledged_by/user_id", Message: "is required"},
		{Pointer: "/recipient/phone~1mobile", Message: "is not allowed here"},
	}
	if diff := cmp.Diff(want, verr.Failures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	wantMsg := "document does not match " + eventschema.DataSchemaID(events.NotificationAcknowledged) +
		": /acknowledged_by/user_id: is required; /recipient/phone~1mobile: is not allowed here"
	if got := err.Error(); got != wantMsg {
		t.Errorf("Error() = %q, want %q", got, wantMsg)
	}
}

func TestValidateRefusesWhatItCannotCheck(t *testing.T) {
	cases := []struct {
		name    string
		check   func() error
		wantErr error
	}{
		{name: "unknown schema id", wantErr: eventschema.ErrUnknownSchema, check: func() error {
			return eventschema.Validate(schemas.BaseURL+"http/nothing.schema.json", []byte(`{}`))
		}},
		{name: "unknown event type", wantErr: eventschema.ErrUnknownSchema, check: func() error {
			return eventschema.ValidateData("org.lantern.incident.closed.v1", []byte(`{}`))
		}},
		{name: "truncated JSON", wantErr: eventschema.ErrMalformed, check: func() error {
			return eventschema.Validate(eventschema.ProblemID, []byte(`{"type":`))
		}},
		{name: "trailing data", wantErr: eventschema.ErrMalformed, check: func() error {
			return eventschema.Validate(eventschema.ProblemID, []byte(`{} {}`))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.check(); !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestCompileRefusesBadSchemaFiles(t *testing.T) {
	const head = `{"$schema":"https://json-schema.org/draft/2020-12/schema",`
	cases := []struct {
		name    string
		file    string
		wantErr string
	}{
		{name: "reference outside the set is never fetched",
			file:    head + `"$id":"https://lantern.example/schemas/events/x.schema.json","$ref":"https://json.example/remote.json"}`,
			wantErr: "https://json.example/remote.json is not in Lantern's embedded schemas"},
		{name: "id does not match the path",
			file:    head + `"$id":"https://lantern.example/schemas/http/x.schema.json"}`,
			wantErr: `$id is "https://lantern.example/schemas/http/x.schema.json", want "https://lantern.example/schemas/events/x.schema.json"`},
		{name: "another draft",
			file:    `{"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://lantern.example/schemas/events/x.schema.json"}`,
			wantErr: `$schema is "http://json-schema.org/draft-07/schema#"`},
		{name: "not JSON", file: `{`, wantErr: "decoding schema events/x.schema.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"events/x.schema.json": {Data: []byte(tc.file)},
				"examples/x.json":      {Data: []byte(`not a schema, so not read`)},
			}
			_, err := eventschema.Compile(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Compile() error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateIsSafeForConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(events.Catalogue()))
	for range 4 {
		for _, spec := range events.Catalogue() {
			data := mustJSON(t, exampleData(t, spec.Type))
			wg.Go(func() { errs <- eventschema.ValidateData(spec.Type, data) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("ValidateData() = %v, want nil", err)
		}
	}
}

func compiled(t *testing.T) *eventschema.Set {
	t.Helper()
	set, err := eventschema.Compiled()
	if err != nil {
		t.Fatalf("Compiled() = %v", err)
	}
	return set
}

// exampleData returns a fresh copy of the data of the shipped example event
// of type typ.
func exampleData(t *testing.T, typ events.Type) map[string]any {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, "examples/"+string(typ)+".json")
	if err != nil {
		t.Fatalf("reading example: %v", err)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("decoding example %s: %v", typ, err)
	}
	return env.Data
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding JSON: %v", err)
	}
	return b
}

// failurePointers returns the pointers of a validation error, nil for no
// error, and fails the test for an error of any other kind.
func failurePointers(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var verr *eventschema.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	return verr.Pointers()
}

// patch sets the value at an RFC 6901 pointer inside doc, creating the last
// member if needed; a nil value removes it instead.
func patch(t *testing.T, doc map[string]any, ptr string, value any) {
	t.Helper()
	tokens := strings.Split(ptr, "/")[1:]
	for i, tok := range tokens {
		tokens[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
	}
	var parent any = doc
	for _, tok := range tokens[:len(tokens)-1] {
		switch p := parent.(type) {
		case map[string]any:
			parent = p[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i >= len(p) {
				t.Fatalf("patch %s: no element %q", ptr, tok)
			}
			parent = p[i]
		}
	}
	obj, ok := parent.(map[string]any)
	if !ok {
		t.Fatalf("patch %s: parent is %T, not an object", ptr, parent)
	}
	last := tokens[len(tokens)-1]
	if value == nil {
		delete(obj, last)
		return
	}
	obj[last] = value
}

func TestFailureMessagesNeverRepeatTheValue(t *testing.T) {
	secret := "Zebedee-Quartermaine-1977"
	doc := []byte(`{"notification_id":"` + secret + `","incident_id":"` + secret + `","recipient":{"kind":"` + secret +
		`","id":"x","name":"y"},"child_ids":[],"requested_at":"` + secret + `"}`)
	err := eventschema.ValidateData(events.NotificationDelivered, doc)
	if err == nil {
		t.Fatal("an invalid document was accepted")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error repeats a submitted value: %v", err)
	}
}

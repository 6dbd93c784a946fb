package routing_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/eventschema"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/reftest"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

// The test world: one local authority with every service, a second one
// that sends the minimal school notice, schools on a calendar whose dates
// the worked examples use, one school whose calendar has run out, a
// nursery, and two GP practices.
const (
	testLA        = "E06000099"
	otherLA       = "E06000098"
	alphaPrimary  = "100001"
	betaAcademy   = "100002"
	gammaCollege  = "100003"
	staleSchool   = "100004"
	acornsNursery = "EY100005"
	otherbySchool = "100006"
	alphaSurgery  = "G10001"
	betaPractice  = "G10002"
	unknownSchool = "199999"
)

type worldOptions struct {
	earlyYearsOptIn bool
}

// writeReference writes the test world's reference data to a new folder
// and loads it with the same loader the router uses.
func writeReference(t testing.TB, o worldOptions) *refdata.Set {
	t.Helper()
	optIn := "false"
	if o.earlyYearsOptIn {
		optIn = "true"
	}
	services := "local_authority_code,kind,name,email\n"
	for _, la := range []string{testLA, otherLA} {
		for _, kind := range append(refdata.ServiceKinds(), samplePartnerKind) {
			services += la + "," + string(kind) + ",Test " + string(kind) + " " + la + "," + string(kind) + "@" + strings.ToLower(la) + ".lantern.test\n"
		}
	}
	files := map[string]string{
		"local_authorities.csv": "code,name,mash_email,mash_hours,early_years_opt_in\n" +
			testLA + ",Testshire Council,mash@testshire.lantern.test,Mon-Fri 09:00-17:00," + optIn + "\n" +
			otherLA + ",Otherby Council,mash@otherby.lantern.test,Mon-Fri 09:00-17:00,true\n",
		"schools.csv": "urn,name,local_authority_code,phase,dsl_email,day_start,calendar_id\n" +
			alphaPrimary + ",Alpha Primary School," + testLA + ",primary,dsl@alpha.lantern.test,08:30,test-standard\n" +
			betaAcademy + ",Beta Academy," + testLA + ",secondary,dsl@beta.lantern.test,08:45,test-standard\n" +
			gammaCollege + ",Gamma College," + testLA + ",further_education,dsl@gamma.lantern.test,09:00,test-standard\n" +
			staleSchool + ",Stale Primary School," + testLA + ",primary,dsl@stale.lantern.test,08:30,test-stale\n" +
			acornsNursery + ",Little Acorns Nursery," + testLA + ",nursery,dsl@acorns.lantern.test,08:00,test-standard\n" +
			otherbySchool + ",Otherby Primary School," + otherLA + ",primary,dsl@otherby.lantern.test,08:50,test-standard\n",
		"gp_practices.csv": "ods_code,name,safeguarding_email\n" +
			alphaSurgery + ",Alpha Surgery,safeguarding@alpha-surgery.lantern.test\n" +
			betaPractice + ",Beta Practice,safeguarding@beta-practice.lantern.test\n",
		"services.csv": services,
		"calendars/test-standard.json": `{"timezone": "Europe/London",
  "terms": [{"start": "2026-09-01", "end": "2026-10-23"}, {"start": "2026-11-02", "end": "2026-12-18"},
            {"start": "2027-01-04", "end": "2027-02-12"}, {"start": "2027-02-22", "end": "2027-03-26"}],
  "closed": ["2026-09-01", "2027-01-04"]}`,
		"calendars/test-stale.json": `{"timezone": "Europe/London",
  "terms": [{"start": "2025-09-01", "end": "2025-12-19"}], "closed": []}`,
		"bank-holidays.json": `{"england-and-wales": {"division": "england-and-wales", "events": [
  {"title": "Test Tuesday Holiday", "date": "2026-10-06", "notes": "", "bunting": false},
  {"title": "Christmas Day", "date": "2026-12-25", "notes": "", "bunting": true},
  {"title": "Boxing Day", "date": "2026-12-28", "notes": "Substitute day", "bunting": true},
  {"title": "New Year's Day", "date": "2027-01-01", "notes": "", "bunting": true}]}}`,
	}
	return reftest.Load(t, files)
}

// shippedPolicyFile is the default policy the project ships, and
// samplePolicyFile its sample of a partnership's own rule.
const (
	shippedPolicyFile = "../../../../policy/default.yaml"
	samplePolicyFile  = "../../../../policy/samples/medium-risk-da-service.yaml"
	samplePartnerKind = events.RecipientKind("domestic_abuse_service")
)

func defaultPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Load(shippedPolicyFile)
	if err != nil {
		t.Fatalf("loading the shipped policy: %v", err)
	}
	return p
}

func newRouter(p *policy.Policy, ref *refdata.Set) *routing.Router {
	return &routing.Router{Policy: func() *policy.Policy { return p }, Reference: func() *refdata.Set { return ref }}
}

// london builds an instant from London wall time.
func london(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, calendar.London)
}

func intPtr(n int) *int { return &n }

// baseIncident is an incident in the test local authority with a victim
// and a perpetrator and no children; cases add what they need.
func baseIncident(at time.Time) ppn.Incident {
	return ppn.Incident{
		ForceCode: "TEST", PoliceReference: "TST-26-000001", OccurredAt: at, ReportedAt: at.Add(10 * time.Minute),
		LocalAuthorityCode: testLA, Location: &ppn.Location{Postcode: "ME4 4TR", Description: "family home"},
		DASH: ppn.DASH{Level: ppn.DASHStandard, YesCount: intPtr(3)},
		Adults: []ppn.Adult{
			{PersonID: "P-1", Role: ppn.RoleVictim, Name: "Vera Victim", DateOfBirth: "1992-04-01"},
			{PersonID: "P-2", Role: ppn.RolePerpetrator, Name: "Percy Perp", DateOfBirth: "1990-02-02"},
		},
		Children: []ppn.Child{},
	}
}

func child(id, name, dob, educationType, urn string) ppn.Child {
	c := ppn.Child{PersonID: id, Name: name, DateOfBirth: dob, Present: true}
	if educationType != "" {
		c.Education = &ppn.Education{Type: educationType, URN: urn}
	}
	return c
}

func reported(in ppn.Incident, receivedAt time.Time) events.IncidentReportedData {
	return events.IncidentReportedData{IncidentID: "0b6f2f7e-9a3c-4d8e-8f21-6a1c2b3d4e5f", ReceivedAt: receivedAt, Incident: in}
}

// decideIncident routes an incident received at receivedAt, with Lantern's
// own history h, and checks every notice against the event schema.
func decideIncident(t *testing.T, r *routing.Router, in ppn.Incident, receivedAt time.Time, h routing.History) routing.Outcome {
	t.Helper()
	out, err := r.OnIncident(t.Context(), reported(in, receivedAt), h, receivedAt)
	if err != nil {
		t.Fatalf("OnIncident: %v", err)
	}
	checkSchema(t, out)
	return out
}

// decideTriage rates the case and routes the rating.
func decideTriage(t *testing.T, r *routing.Router, c routing.Case, rag string, at time.Time) routing.Outcome {
	t.Helper()
	tr := events.TriageDecidedData{IncidentID: c.IncidentID, NotificationID: "1c8e3f5a-2b4d-4c6e-8a0f-9b7d5e3c1a2f",
		RAG: rag, DefaultRAG: string(c.DefaultRAG), Decision: events.DecisionSection17, DecidedAt: at,
		DecidedBy: events.Person{UserID: "mash-1"}}
	out, err := r.OnTriage(t.Context(), c, tr, at)
	if err != nil {
		t.Fatalf("OnTriage: %v", err)
	}
	checkSchema(t, out)
	return out
}

func checkSchema(t *testing.T, out routing.Outcome) {
	t.Helper()
	for _, d := range out.Decisions {
		data, err := json.Marshal(d.Request)
		if err != nil {
			t.Fatal(err)
		}
		if err := eventschema.ValidateData(events.NotificationRequested, data); err != nil {
			t.Errorf("%s notice to %s breaks the schema: %v", d.Request.RuleID, d.Request.Recipient.Kind, err)
		}
	}
}

// byKind returns the notices to one kind of recipient.
func byKind(out routing.Outcome, kind events.RecipientKind) []routing.Decision {
	var ds []routing.Decision
	for _, d := range out.Decisions {
		if d.Request.Recipient.Kind == kind {
			ds = append(ds, d)
		}
	}
	return ds
}

// only returns the single notice to a kind of recipient, failing the test
// if there is not exactly one.
func only(t *testing.T, out routing.Outcome, kind events.RecipientKind) routing.Decision {
	t.Helper()
	ds := byKind(out, kind)
	if len(ds) != 1 {
		t.Fatalf("got %d notices to %s, want 1 (kinds: %v)", len(ds), kind, kinds(out))
	}
	return ds[0]
}

// kinds lists the recipient kinds of an outcome, sorted.
func kinds(out routing.Outcome) []events.RecipientKind {
	var ks []events.RecipientKind
	for _, d := range out.Decisions {
		ks = append(ks, d.Request.Recipient.Kind)
	}
	slices.Sort(ks)
	return ks
}

// editedPolicy is the shipped policy with each old text replaced by its
// new text and a new version, as a partnership would edit the file.
func editedPolicy(t *testing.T, replacements ...string) *policy.Policy {
	t.Helper()
	data, err := os.ReadFile(shippedPolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "version: default-2026.1", "version: edited-1", 1)
	for i := 0; i+1 < len(replacements); i += 2 {
		if !strings.Contains(text, replacements[i]) {
			t.Fatalf("the shipped policy has no %q", replacements[i])
		}
		text = strings.Replace(text, replacements[i], replacements[i+1], 1)
	}
	p, err := policy.Parse("edited.yaml", []byte(text))
	if err != nil {
		t.Fatalf("loading the edited policy: %v", err)
	}
	return p
}

package app_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// area is one local authority's made-up incident and the notices the
// router would send for it, each to that area's own organisations.
type area struct {
	la, school, gp string
	incidentID     string
	incident       ppn.Incident
	// markers are strings that appear only in this area's notices, so a
	// response for another area's user can be searched for them.
	markers []string
}

func intp(n int) *int { return &n }

func medway() area {
	in := ppn.Incident{ForceCode: "KENT", PoliceReference: "KNT-26-700001",
		OccurredAt: time.Date(2026, 11, 20, 22, 15, 0, 0, time.UTC), ReportedAt: time.Date(2026, 11, 20, 22, 40, 0, 0, time.UTC),
		LocalAuthorityCode: "E06000035", Location: &ppn.Location{Postcode: "ME4 4TR", Description: "family home"},
		DASH: ppn.DASH{Level: ppn.DASHHigh, YesCount: intp(15)}, IncidentsSameParties12m: 2,
		Adults: []ppn.Adult{
			{PersonID: "P-1", Role: ppn.RoleVictim, Name: "Jane Medwayvictim", DateOfBirth: "1994-03-02", GPODSCode: "G82001"},
			{PersonID: "P-2", Role: ppn.RolePerpetrator, Name: "John Medwayperp", DateOfBirth: "1990-07-15", OnProbation: true, MAPPALevel: intp(0)},
		},
		Children: []ppn.Child{{PersonID: "C-1", Name: "Amy Medwaychild", DateOfBirth: "2019-05-01", Present: true,
			VoiceOfChild: "said she hid upstairs", Education: &ppn.Education{Type: ppn.EducationSchool, URN: "118234"},
			GPODSCode: "G82001", NHSNumber: "9434765919"}},
		Circumstances: "Medway narrative for the MASH only", Officer: &ppn.Officer{ID: "KNT-4411", Name: "PC Smith", Contact: "01622 000000"},
	}
	return area{la: "E06000035", school: "118234", gp: "G82001", incidentID: cloudevent.DeriveID("fixture", "medway"),
		incident: in, markers: []string{"KNT-26-700001", "Medwayvictim", "Medwayperp", "Medwaychild", "ME4 4TR", "Medway narrative"}}
}

func kent() area {
	in := ppn.Incident{ForceCode: "KENT", PoliceReference: "KNT-26-900009",
		OccurredAt: time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC), ReportedAt: time.Date(2026, 11, 20, 21, 30, 0, 0, time.UTC),
		LocalAuthorityCode: "E10000016", Location: &ppn.Location{Postcode: "DA1 9ZZ", Description: "flat"},
		DASH: ppn.DASH{Level: ppn.DASHMedium, YesCount: intp(16)},
		Adults: []ppn.Adult{
			{PersonID: "P-1", Role: ppn.RoleVictim, Name: "Kate Kentvictim", DateOfBirth: "1992-01-10"},
			{PersonID: "P-2", Role: ppn.RolePerpetrator, Name: "Ken Kentperp", DateOfBirth: "1988-04-04", OnProbation: true},
		},
		Children: []ppn.Child{{PersonID: "C-1", Name: "Kim Kentchild", DateOfBirth: "2018-02-02", Present: false,
			Education: &ppn.Education{Type: ppn.EducationSchool, URN: "118901"}, NHSNumber: "9876543210"}},
		Circumstances: "Kent narrative for the MASH only",
	}
	return area{la: "E10000016", school: "118901", gp: "G82230", incidentID: cloudevent.DeriveID("fixture", "kent"),
		incident: in, markers: []string{"KNT-26-900009", "Kentvictim", "Kentperp", "Kentchild", "DA1 9ZZ", "Kent narrative"}}
}

// notice builds one requested notice.
func (a area) notice(t *testing.T, rule string, kind events.RecipientKind, id, name, profile string, body any, due time.Duration) events.NotificationRequestedData {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encoding notice: %v", err)
	}
	childIDs := []string{}
	for _, c := range a.incident.Children {
		childIDs = append(childIDs, c.PersonID)
	}
	flags := []string(nil)
	if kind == events.KindMASH {
		flags = []string{"default_rag_" + map[string]string{ppn.DASHHigh: "red", ppn.DASHMedium: "amber"}[a.incident.DASH.Level],
			"marac_criteria_met", "rag_reason_dash_" + a.incident.DASH.Level}
	}
	return events.NotificationRequestedData{NotificationID: cloudevent.DeriveID(a.incidentID, rule, string(kind), id),
		IncidentID: a.incidentID, RuleID: rule, PolicyVersion: "test-1", Recipient: events.Recipient{Kind: kind, ID: id, Name: name},
		ChildIDs: childIDs, RequestedAt: a.incident.ReportedAt.Add(time.Minute), DueAt: a.incident.OccurredAt.Add(due),
		Calendar: "clock", Profile: events.Profile(profile), LawfulBasis: "UK GDPR Art 6(1)(e); DPA 2018 Sch 1 para 18",
		Purpose: "So that you can act to protect the child.", Flags: flags, Notice: raw}
}

// notices are the area's notices: one to each kind of recipient the
// workspace has a role for.
func (a area) notices(t *testing.T) map[events.RecipientKind]events.NotificationRequestedData {
	t.Helper()
	in := a.incident
	child := in.Children[0]
	schoolNotice := map[string]any{"force_code": in.ForceCode, "police_reference": in.PoliceReference,
		"occurred_at": in.OccurredAt, "location": in.Location, "children": []map[string]any{{"person_id": child.PersonID,
			"name": child.Name, "date_of_birth": child.DateOfBirth, "present": child.Present, "voice_of_child": child.VoiceOfChild}}}
	if child.VoiceOfChild == "" {
		delete(schoolNotice["children"].([]map[string]any)[0], "voice_of_child")
	}
	health := map[string]any{"force_code": in.ForceCode, "police_reference": in.PoliceReference, "occurred_at": in.OccurredAt,
		"dash_level": in.DASH.Level, "children": []map[string]any{{"person_id": child.PersonID, "name": child.Name,
			"date_of_birth": child.DateOfBirth, "present": child.Present, "nhs_number": child.NHSNumber}},
		"adults": []map[string]any{{"person_id": "P-1", "name": in.Adults[0].Name, "role": "victim"}}}
	probation := map[string]any{"force_code": in.ForceCode, "police_reference": in.PoliceReference, "occurred_at": in.OccurredAt,
		"dash_level": in.DASH.Level, "adults": []map[string]any{
			{"person_id": "P-1", "name": in.Adults[0].Name, "role": "victim"},
			{"person_id": "P-2", "name": in.Adults[1].Name, "role": "perpetrator", "date_of_birth": in.Adults[1].DateOfBirth, "on_probation": true}},
		"children": []map[string]any{{"person_id": child.PersonID, "name": child.Name, "age_years": 7, "present": child.Present}}}
	minimal := map[string]any{"occurred_at": in.OccurredAt, "children": []map[string]any{{"person_id": child.PersonID,
		"name": child.Name, "date_of_birth": child.DateOfBirth, "present": child.Present}}}
	return map[events.RecipientKind]events.NotificationRequestedData{
		events.KindMASH:           a.notice(t, "R1", events.KindMASH, a.la, "MASH", "A", in, 1*time.Hour),
		events.KindSchool:         a.notice(t, "R8", events.KindSchool, a.school, "School", "B", schoolNotice, 58*time.Hour),
		events.KindHealthVisiting: a.notice(t, "R11", events.KindHealthVisiting, a.la, "Health visiting", "C", health, 60*time.Hour),
		events.KindProbation:      a.notice(t, "R15", events.KindProbation, a.la, "Probation", "D", probation, 14*time.Hour),
		events.KindMARAC:          a.notice(t, "R16", events.KindMARAC, a.la, "MARAC", "A", in, 60*time.Hour),
		events.KindIDVA:           a.notice(t, "R16", events.KindIDVA, a.la, "IDVA", "A", in, 60*time.Hour),
		events.KindHomeEducation:  a.notice(t, "R9", events.KindHomeEducation, a.la, "Home education", "B_minimal", minimal, 58*time.Hour),
	}
}

// deliverAll delivers every notice of every area and waits for them.
func (b *bundle) deliverAll(areas ...area) map[string]map[events.RecipientKind]events.NotificationRequestedData {
	b.t.Helper()
	out := map[string]map[events.RecipientKind]events.NotificationRequestedData{}
	var ids []string
	for _, a := range areas {
		ns := a.notices(b.t)
		out[a.la] = ns
		for _, n := range ns {
			b.deliver(n)
			ids = append(ids, n.NotificationID)
		}
	}
	b.waitDelivered(ids...)
	return out
}

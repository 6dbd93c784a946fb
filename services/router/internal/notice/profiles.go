package notice

import (
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// A is profile A, the full multi-agency notice for the MASH, the MARAC and
// the IDVA service: the police notice as sent, field for field.
type A struct {
	ForceCode               string        `json:"force_code"`
	PoliceReference         string        `json:"police_reference"`
	OccurredAt              time.Time     `json:"occurred_at"`
	ReportedAt              time.Time     `json:"reported_at"`
	LocalAuthorityCode      string        `json:"local_authority_code"`
	Location                *ppn.Location `json:"location,omitempty"`
	DASH                    ppn.DASH      `json:"dash"`
	IncidentsSameParties12m int           `json:"incidents_same_parties_12m"`
	PreviousMARACWithin12m  bool          `json:"previous_marac_within_12m"`
	Adults                  []ppn.Adult   `json:"adults"`
	Children                []ppn.Child   `json:"children"`
	Circumstances           string        `json:"circumstances,omitempty"`
	Officer                 *ppn.Officer  `json:"officer,omitempty"`
}

// BuildA copies every field of the police notice, keeping only the adults
// given; the MASH gets them all, the MARAC and IDVA the victim and the
// perpetrator.
func BuildA(in ppn.Incident, adults []ppn.Adult) A {
	a := A{
		ForceCode: in.ForceCode, PoliceReference: in.PoliceReference,
		OccurredAt: in.OccurredAt, ReportedAt: in.ReportedAt,
		LocalAuthorityCode: in.LocalAuthorityCode, Location: location(in.Location),
		DASH:                    ppn.DASH{Level: in.DASH.Level, ProfessionalJudgementHigh: in.DASH.ProfessionalJudgementHigh},
		IncidentsSameParties12m: in.IncidentsSameParties12m, PreviousMARACWithin12m: in.PreviousMARACWithin12m,
		Adults: slices.Clone(adults), Children: make([]ppn.Child, 0, len(in.Children)),
		Circumstances: in.Circumstances,
	}
	if in.DASH.YesCount != nil {
		n := *in.DASH.YesCount
		a.DASH.YesCount = &n
	}
	for _, c := range in.Children {
		if c.Education != nil {
			e := *c.Education
			c.Education = &e
		}
		a.Children = append(a.Children, c)
	}
	if in.Officer != nil {
		o := *in.Officer
		a.Officer = &o
	}
	return a
}

// B is profile B, Operation Encompass full, for a setting's designated
// safeguarding lead: the setting's own pupils and nothing about the adults
// unless the policy allows their names for safe collection.
type B struct {
	Incident
	Children []Pupil      `json:"children"`
	Adults   []NamedAdult `json:"adults,omitempty"`
}

// Incident is what profiles B, C and D open with: whose notice it is, and
// when and where the incident happened. Embedded, its fields stand in the
// profile's JSON as if declared there.
type Incident struct {
	ForceCode       string        `json:"force_code"`
	PoliceReference string        `json:"police_reference"`
	OccurredAt      time.Time     `json:"occurred_at"`
	Location        *ppn.Location `json:"location,omitempty"`
}

// incidentOf copies the incident's opening fields from the police notice.
func incidentOf(in ppn.Incident) Incident {
	return Incident{ForceCode: in.ForceCode, PoliceReference: in.PoliceReference, OccurredAt: in.OccurredAt,
		Location: location(in.Location)}
}

// Pupil is a child as profile B shows them.
type Pupil struct {
	PersonID     string `json:"person_id"`
	Name         string `json:"name"`
	DateOfBirth  string `json:"date_of_birth"`
	Present      bool   `json:"present"`
	VoiceOfChild string `json:"voice_of_child,omitempty"`
}

// NamedAdult is an adult shown by name and role only.
type NamedAdult struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// BuildB builds a school's notice about its own pupils. safeCollection
// lists the adults the school may know of so that no child is handed to
// the wrong person; it is empty unless the policy says otherwise.
func BuildB(in ppn.Incident, pupils []ppn.Child, safeCollection []ppn.Adult) B {
	b := B{Incident: incidentOf(in), Children: make([]Pupil, 0, len(pupils))}
	for _, c := range pupils {
		b.Children = append(b.Children, Pupil{PersonID: c.PersonID, Name: c.Name, DateOfBirth: c.DateOfBirth,
			Present: c.Present, VoiceOfChild: c.VoiceOfChild})
	}
	for _, a := range safeCollection {
		b.Adults = append(b.Adults, NamedAdult{Name: a.Name, Role: a.Role})
	}
	return b
}

// BMinimal is profile B_minimal, Operation Encompass minimal: the pupil,
// when it happened and whether the pupil was there.
type BMinimal struct {
	OccurredAt time.Time      `json:"occurred_at"`
	Children   []MinimalChild `json:"children"`
}

// MinimalChild is a child as profile B_minimal shows them.
type MinimalChild struct {
	PersonID    string `json:"person_id"`
	Name        string `json:"name"`
	DateOfBirth string `json:"date_of_birth"`
	Present     bool   `json:"present"`
}

// BuildBMinimal builds a minimal notice about the children given.
func BuildBMinimal(in ppn.Incident, children []ppn.Child) BMinimal {
	b := BMinimal{OccurredAt: in.OccurredAt, Children: make([]MinimalChild, 0, len(children))}
	for _, c := range children {
		b.Children = append(b.Children, MinimalChild{PersonID: c.PersonID, Name: c.Name,
			DateOfBirth: c.DateOfBirth, Present: c.Present})
	}
	return b
}

// C is profile C, for health: the children on the team's caseload, the
// adults it needs to know, and the DASH level without its answers.
type C struct {
	Incident
	DASHLevel string        `json:"dash_level"`
	Children  []Patient     `json:"children,omitempty"`
	Adults    []HealthAdult `json:"adults,omitempty"`
}

// Patient is a child as profile C shows them.
type Patient struct {
	PersonID     string `json:"person_id"`
	Name         string `json:"name"`
	DateOfBirth  string `json:"date_of_birth"`
	Present      bool   `json:"present"`
	VoiceOfChild string `json:"voice_of_child,omitempty"`
	NHSNumber    string `json:"nhs_number,omitempty"`
	GPODSCode    string `json:"gp_ods_code,omitempty"`
	OpenToCSC    bool   `json:"open_to_csc,omitempty"`
	CPPlan       bool   `json:"cp_plan,omitempty"`
}

// HealthAdult is an adult as profile C shows them. Only a patient of the
// recipient carries a date of birth, a practice or a pregnancy.
type HealthAdult struct {
	PersonID        string `json:"person_id"`
	Name            string `json:"name"`
	Role            string `json:"role"`
	DateOfBirth     string `json:"date_of_birth,omitempty"`
	Pregnant        bool   `json:"pregnant,omitempty"`
	ExpectedDueDate string `json:"expected_due_date,omitempty"`
	GPODSCode       string `json:"gp_ods_code,omitempty"`
}

// AdultPatient shows an adult who is the recipient's patient, with the
// pregnancy when withPregnancy is set.
func AdultPatient(a ppn.Adult, withPregnancy bool) HealthAdult {
	h := HealthAdult{PersonID: a.PersonID, Name: a.Name, Role: a.Role, DateOfBirth: a.DateOfBirth, GPODSCode: a.GPODSCode}
	if withPregnancy && a.Pregnant {
		h.Pregnant, h.ExpectedDueDate = true, a.ExpectedDueDate
	}
	return h
}

// AdultNamed shows an adult by name and role only, for a team that must
// know who is in the household but does not treat them.
func AdultNamed(a ppn.Adult) HealthAdult {
	return HealthAdult{PersonID: a.PersonID, Name: a.Name, Role: a.Role}
}

// BuildC builds a health notice about the children and adults given.
func BuildC(in ppn.Incident, children []ppn.Child, adults []HealthAdult) C {
	c := C{Incident: incidentOf(in), DASHLevel: in.DASH.Level, Adults: slices.Clone(adults)}
	for _, ch := range children {
		c.Children = append(c.Children, Patient{PersonID: ch.PersonID, Name: ch.Name, DateOfBirth: ch.DateOfBirth,
			Present: ch.Present, VoiceOfChild: ch.VoiceOfChild, NHSNumber: ch.NHSNumber, GPODSCode: ch.GPODSCode,
			OpenToCSC: ch.OpenToCSC, CPPlan: ch.CPPlan})
	}
	return c
}

// D is profile D, for probation: the adults with the supervised person's
// own status, the DASH level, and the children by name and age only.
type D struct {
	Incident
	DASHLevel string             `json:"dash_level"`
	Adults    []SupervisionAdult `json:"adults"`
	Children  []HouseholdChild   `json:"children,omitempty"`
}

// SupervisionAdult is an adult as profile D shows them. Only the
// supervised person carries a date of birth and a supervision status.
type SupervisionAdult struct {
	PersonID    string `json:"person_id"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	DateOfBirth string `json:"date_of_birth,omitempty"`
	OnProbation bool   `json:"on_probation,omitempty"`
	MAPPALevel  *int   `json:"mappa_level,omitempty"`
}

// HouseholdChild is a child as profile D shows them: no date of birth, no
// school, no voice of the child.
type HouseholdChild struct {
	PersonID  string `json:"person_id"`
	Name      string `json:"name"`
	AgeYears  int    `json:"age_years"`
	Present   bool   `json:"present"`
	OpenToCSC bool   `json:"open_to_csc,omitempty"`
	CPPlan    bool   `json:"cp_plan,omitempty"`
}

// Supervised reports whether an adult is on probation or managed under
// MAPPA, and so is the person a probation practitioner supervises.
func Supervised(a ppn.Adult) bool {
	return a.OnProbation || (a.MAPPALevel != nil && *a.MAPPALevel > 0)
}

// BuildD builds a probation notice: the victim, the perpetrator and every
// supervised adult, and every child by name and age at the incident.
func BuildD(in ppn.Incident) D {
	d := D{Incident: incidentOf(in), DASHLevel: in.DASH.Level}
	for _, a := range in.Adults {
		supervised := Supervised(a)
		if !supervised && a.Role == ppn.RoleOther {
			continue
		}
		s := SupervisionAdult{PersonID: a.PersonID, Name: a.Name, Role: a.Role}
		if supervised {
			s.DateOfBirth, s.OnProbation = a.DateOfBirth, a.OnProbation
			if a.MAPPALevel != nil {
				level := *a.MAPPALevel
				s.MAPPALevel = &level
			}
		}
		d.Adults = append(d.Adults, s)
	}
	for _, c := range in.Children {
		age, _ := events.AgeYears(c.DateOfBirth, in.OccurredAt)
		d.Children = append(d.Children, HouseholdChild{PersonID: c.PersonID, Name: c.Name, AgeYears: min(age, 17),
			Present: c.Present, OpenToCSC: c.OpenToCSC, CPPlan: c.CPPlan})
	}
	return d
}

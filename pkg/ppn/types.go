// Package ppn holds the Public Protection Notice that police send to
// Lantern's intake: its types, a strict decoder that refuses anything
// ambiguous, and the rules a notice must satisfy before it is accepted.
package ppn

import "time"

// Incident is one police-attended domestic abuse incident, as posted to
// POST /v1/incidents (contract.md section 1). Field names follow the wire
// format exactly; optional fields are pointers so that "absent" and "false"
// stay distinct.
type Incident struct {
	// ForceCode and PoliceReference together are the notice's natural
	// key: the same pair sent again is a repeat or a conflict, never a new
	// incident.
	ForceCode       string `json:"force_code"`
	PoliceReference string `json:"police_reference"`
	// OccurredAt is when the incident happened; every SLA clock starts
	// here. Its date in Europe/London is "the incident's date" for ages.
	OccurredAt time.Time `json:"occurred_at"`
	// ReportedAt is when the police were told; never before OccurredAt.
	ReportedAt time.Time `json:"reported_at"`
	// LocalAuthorityCode is the ONS code (E06000035) of the authority
	// whose children's services receive the notice.
	LocalAuthorityCode string    `json:"local_authority_code"`
	Location           *Location `json:"location,omitempty"`
	DASH               DASH      `json:"dash"`
	// IncidentsSameParties12m counts earlier police-attended incidents
	// between the same parties in the last 12 months.
	IncidentsSameParties12m int  `json:"incidents_same_parties_12m"`
	PreviousMARACWithin12m  bool `json:"previous_marac_within_12m"`
	// Adults has at least one person.
	Adults []Adult `json:"adults"`
	// Children may be empty: a notice with no child, pregnant victim or
	// not, is still a valid PPN.
	Children      []Child  `json:"children"`
	Circumstances string   `json:"circumstances,omitempty"`
	Officer       *Officer `json:"officer,omitempty"`
}

// Location is where the incident happened.
type Location struct {
	Postcode    string `json:"postcode,omitempty"`
	Description string `json:"description,omitempty"`
}

// DASH levels.
const (
	DASHStandard     = "standard"
	DASHMedium       = "medium"
	DASHHigh         = "high"
	DASHNotCompleted = "not_completed"
)

// DASH is the police risk assessment of the adult victim.
type DASH struct {
	Level string `json:"level"`
	// YesCount is the number of "yes" answers, 0 to 27 (police versions
	// of the checklist run a little past SafeLives' 24 questions); nil
	// when not given, and always nil when Level is not_completed.
	YesCount                  *int `json:"yes_count,omitempty"`
	ProfessionalJudgementHigh bool `json:"professional_judgement_high"`
}

// Adult roles.
const (
	RoleVictim      = "victim"
	RolePerpetrator = "perpetrator"
	RoleOther       = "other"
)

// Adult is one adult involved in the incident.
type Adult struct {
	PersonID string `json:"person_id"`
	Role     string `json:"role"`
	Name     string `json:"name"`
	// DateOfBirth and ExpectedDueDate are YYYY-MM-DD, kept as sent.
	DateOfBirth     string `json:"date_of_birth,omitempty"`
	Pregnant        bool   `json:"pregnant,omitempty"`
	ExpectedDueDate string `json:"expected_due_date,omitempty"`
	GPODSCode       string `json:"gp_ods_code,omitempty"`
	OnProbation     bool   `json:"on_probation,omitempty"`
	// MAPPALevel is 0 to 3 as the force records it; nil when none is
	// recorded.
	MAPPALevel *int `json:"mappa_level,omitempty"`
}

// Education setting types.
const (
	EducationSchool            = "school"
	EducationFE                = "fe"
	EducationSixteenToNineteen = "sixteen_to_nineteen"
	EducationEarlyYears        = "early_years"
	EducationHomeEducated      = "home_educated"
	EducationNone              = "none"
)

// Child is one child linked to the incident, present or not.
type Child struct {
	PersonID string `json:"person_id"`
	Name     string `json:"name"`
	// DateOfBirth is YYYY-MM-DD, kept as sent; the child is 0 to 17 on
	// the incident's date.
	DateOfBirth  string     `json:"date_of_birth"`
	Present      bool       `json:"present"`
	VoiceOfChild string     `json:"voice_of_child,omitempty"`
	Education    *Education `json:"education,omitempty"`
	GPODSCode    string     `json:"gp_ods_code,omitempty"`
	NHSNumber    string     `json:"nhs_number,omitempty"`
	OpenToCSC    bool       `json:"open_to_csc,omitempty"`
	CPPlan       bool       `json:"cp_plan,omitempty"`
}

// Education is where a child is educated.
type Education struct {
	Type string `json:"type"`
	// URN is required for school, fe, sixteen_to_nineteen and early_years
	// and refused for home_educated and none.
	URN string `json:"urn,omitempty"`
}

// Officer is the attending officer, for the MASH to call back.
type Officer struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Contact string `json:"contact,omitempty"`
}

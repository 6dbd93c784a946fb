package policy

import (
	"slices"
	"sort"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// Facts are what a rule's expressions may read of an incident: the
// routing-relevant facts of the police notice, what Lantern counted of
// earlier incidents, and the MASH's rating. They hold no name, date of
// birth or narrative, so that the router can keep them with the case and a
// simulation can read them back.
type Facts struct {
	DASH DASHFacts `json:"dash"`
	// IncidentsSameParties12m is the police's count of earlier incidents
	// between the same parties.
	IncidentsSameParties12m int `json:"incidents_same_parties_12m"`
	// SamePartiesIncidents counts this incident and the earlier ones of
	// the same victim and perpetrator in the repeat window: the larger of
	// the police's count and Lantern's own, plus one.
	SamePartiesIncidents   int    `json:"same_parties_incidents"`
	PreviousMARACWithin12m bool   `json:"previous_marac_within_12m"`
	LocalAuthority         string `json:"local_authority"`
	// DefaultRAG is the rating R2a proposes to the MASH.
	DefaultRAG string       `json:"default_rag"`
	Children   []ChildFacts `json:"children"`
	Adults     []AdultFacts `json:"adults"`
	Triage     *TriageFacts `json:"triage,omitempty"`
}

// DASHFacts are the DASH risk assessment's results.
type DASHFacts struct {
	Level string `json:"level"`
	// YesCount is the number of questions answered yes; nil when the
	// police sent none.
	YesCount                  *int `json:"yes_count,omitempty"`
	ProfessionalJudgementHigh bool `json:"professional_judgement_high"`
}

// ChildFacts are one child's facts.
type ChildFacts struct {
	// PersonID ties the facts to the child of the notice; expressions do
	// not see it.
	PersonID string `json:"person_id"`
	// Age is in whole years on the incident's date.
	Age     int  `json:"age"`
	Present bool `json:"present"`
	// Education is the education setting's type, empty when the police
	// gave none.
	Education  string `json:"education"`
	HasSetting bool   `json:"has_setting"`
	HasGP      bool   `json:"has_gp"`
	OpenToCSC  bool   `json:"open_to_csc"`
	CPPlan     bool   `json:"cp_plan"`
	// RecordedIncidents counts the child's other incidents Lantern
	// recorded in the repeat window.
	RecordedIncidents int `json:"recorded_incidents"`
	// Repeat is set when R17 marked the child a repeat child.
	Repeat bool `json:"repeat"`
}

// AdultFacts are one adult's facts.
type AdultFacts struct {
	PersonID    string `json:"person_id"`
	Role        string `json:"role"`
	Pregnant    bool   `json:"pregnant"`
	OnProbation bool   `json:"on_probation"`
	// MAPPALevel is nil when the police recorded none.
	MAPPALevel *int `json:"mappa_level,omitempty"`
	HasGP      bool `json:"has_gp"`
}

// TriageFacts are the MASH's decision, known to the rules that fire on
// triage.
type TriageFacts struct {
	RAG      string `json:"rag"`
	Decision string `json:"decision"`
}

// Fact describes one fact for the documentation and for the checker.
type Fact struct {
	Name        string
	Type        string
	Description string
}

// The CEL object types of the facts.
const (
	typeDASH       = "lantern.DASH"
	typeChild      = "lantern.Child"
	typeAdult      = "lantern.Adult"
	typeConditions = "lantern.Conditions"
)

var (
	optionalInt = types.NewOptionalType(types.IntType)
	dashType    = types.NewObjectType(typeDASH)
	childType   = types.NewObjectType(typeChild)
	adultType   = types.NewObjectType(typeAdult)
)

// incidentFacts are the variables every expression may read.
var incidentFacts = []factDecl{
	{"dash", dashType, "the DASH assessment: .level, .yes_count, .professional_judgement_high"},
	{"incidents_same_parties_12m", types.IntType, "the police's count of earlier incidents between the same parties"},
	{"same_parties_incidents", types.IntType, "incidents of the same victim and perpetrator in the repeat window, this one included (the larger of the police's and Lantern's counts, plus one)"},
	{"previous_marac_within_12m", types.BoolType, "the case was heard at MARAC in the last twelve months"},
	{"local_authority", types.StringType, "the incident's local authority code"},
	{"default_rag", types.StringType, "the rating R2a proposes to the MASH: red, amber or green"},
	{"rag", types.StringType, "the rating a rule works with: the MASH's own on triage, the proposed one on an incident"},
	{"children", types.NewListType(childType), "the children, each with the fields of child below"},
	{"adults", types.NewListType(adultType), "the adults: .role, .pregnant, .on_probation, .mappa_level, .has_gp"},
}

// triageFacts are the variables only rules that fire on triage may read.
var triageFacts = []factDecl{
	{"decision", types.StringType, "the MASH's decision: nfa, early_help, section_17 or section_47"},
}

// childFact is the variable a rule's children selector reads.
var childFact = factDecl{"child", childType, "one child: .age, .present, .education, .has_setting, .has_gp, .open_to_csc, .cp_plan, .recorded_incidents, .repeat"}

type factDecl struct {
	name        string
	typ         *types.Type
	description string
}

// objectFields are the fields of each object type the facts use.
var objectFields = map[string]map[string]*types.Type{
	typeDASH: {
		"level":                       types.StringType,
		"yes_count":                   optionalInt,
		"professional_judgement_high": types.BoolType,
	},
	typeChild: {
		"age":                types.IntType,
		"present":            types.BoolType,
		"education":          types.StringType,
		"has_setting":        types.BoolType,
		"has_gp":             types.BoolType,
		"open_to_csc":        types.BoolType,
		"cp_plan":            types.BoolType,
		"recorded_incidents": types.IntType,
		"repeat":             types.BoolType,
	},
	typeAdult: {
		"role":         types.StringType,
		"pregnant":     types.BoolType,
		"on_probation": types.BoolType,
		"mappa_level":  optionalInt,
		"has_gp":       types.BoolType,
	},
}

// Facts lists every fact an expression may read, for the documentation.
func FactList() []Fact {
	var out []Fact
	for _, d := range append(append(slices.Clone(incidentFacts), triageFacts...), childFact) {
		out = append(out, Fact{Name: d.name, Type: d.typ.String(), Description: d.description})
	}
	for _, obj := range []string{typeDASH, typeChild, typeAdult} {
		names := make([]string, 0, len(objectFields[obj]))
		for n := range objectFields[obj] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, Fact{Name: obj + "." + n, Type: objectFields[obj][n].String()})
		}
	}
	return out
}

// activation returns the facts as the variables of an evaluation.
func (f *Facts) activation(rag string, conditions map[string]bool) map[string]any {
	children := make([]any, len(f.Children))
	for i := range f.Children {
		children[i] = f.Children[i].value()
	}
	adults := make([]any, len(f.Adults))
	for i, a := range f.Adults {
		adults[i] = map[string]any{"role": a.Role, "pregnant": a.Pregnant, "on_probation": a.OnProbation,
			"mappa_level": optional(a.MAPPALevel), "has_gp": a.HasGP}
	}
	vars := map[string]any{
		"dash": map[string]any{"level": f.DASH.Level, "yes_count": optional(f.DASH.YesCount),
			"professional_judgement_high": f.DASH.ProfessionalJudgementHigh},
		"incidents_same_parties_12m": f.IncidentsSameParties12m,
		"same_parties_incidents":     f.SamePartiesIncidents,
		"previous_marac_within_12m":  f.PreviousMARACWithin12m,
		"local_authority":            f.LocalAuthority,
		"default_rag":                f.DefaultRAG,
		"rag":                        rag,
		"children":                   children,
		"adults":                     adults,
		"decision":                   "",
		"conditions":                 conditionsValue(conditions),
	}
	if f.Triage != nil {
		vars["decision"] = f.Triage.Decision
	}
	return vars
}

func (c ChildFacts) value() map[string]any {
	return map[string]any{"age": c.Age, "present": c.Present, "education": c.Education, "has_setting": c.HasSetting,
		"has_gp": c.HasGP, "open_to_csc": c.OpenToCSC, "cp_plan": c.CPPlan,
		"recorded_incidents": c.RecordedIncidents, "repeat": c.Repeat}
}

func conditionsValue(conditions map[string]bool) map[string]any {
	out := make(map[string]any, len(conditions))
	for k, v := range conditions {
		out[k] = v
	}
	return out
}

func optional(n *int) ref.Val {
	if n == nil {
		return types.OptionalNone
	}
	return types.OptionalOf(types.Int(*n))
}

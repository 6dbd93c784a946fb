// Package notice reads the minimised content of a notice, whatever its
// payload profile, into one shape that pages and the API can show. Each
// profile is a subset of the fields here with the same names, so reading a
// notice can never show more than the router put into it: a field the
// profile leaves out is simply empty.
package notice

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// Content is a notice of any profile.
type Content struct {
	ForceCode          string        `json:"force_code,omitempty"`
	PoliceReference    string        `json:"police_reference,omitempty"`
	OccurredAt         time.Time     `json:"occurred_at"`
	ReportedAt         *time.Time    `json:"reported_at,omitempty"`
	LocalAuthorityCode string        `json:"local_authority_code,omitempty"`
	Location           *ppn.Location `json:"location,omitempty"`
	// DASH is the full risk assessment (profile A); DASHLevel is the level
	// alone (profiles C and D).
	DASH                    *ppn.DASH    `json:"dash,omitempty"`
	DASHLevel               string       `json:"dash_level,omitempty"`
	IncidentsSameParties12m *int         `json:"incidents_same_parties_12m,omitempty"`
	PreviousMARACWithin12m  *bool        `json:"previous_marac_within_12m,omitempty"`
	Children                []Child      `json:"children,omitempty"`
	Adults                  []Adult      `json:"adults,omitempty"`
	Circumstances           string       `json:"circumstances,omitempty"`
	Officer                 *ppn.Officer `json:"officer,omitempty"`
}

// Child is a child as any profile shows them.
type Child struct {
	PersonID     string         `json:"person_id,omitempty"`
	Name         string         `json:"name"`
	DateOfBirth  string         `json:"date_of_birth,omitempty"`
	AgeYears     *int           `json:"age_years,omitempty"`
	Present      bool           `json:"present"`
	VoiceOfChild string         `json:"voice_of_child,omitempty"`
	Education    *ppn.Education `json:"education,omitempty"`
	GPODSCode    string         `json:"gp_ods_code,omitempty"`
	NHSNumber    string         `json:"nhs_number,omitempty"`
	OpenToCSC    bool           `json:"open_to_csc,omitempty"`
	CPPlan       bool           `json:"cp_plan,omitempty"`
}

// Adult is an adult as any profile shows them.
type Adult struct {
	PersonID        string `json:"person_id,omitempty"`
	Role            string `json:"role"`
	Name            string `json:"name"`
	DateOfBirth     string `json:"date_of_birth,omitempty"`
	Pregnant        bool   `json:"pregnant,omitempty"`
	ExpectedDueDate string `json:"expected_due_date,omitempty"`
	GPODSCode       string `json:"gp_ods_code,omitempty"`
	OnProbation     bool   `json:"on_probation,omitempty"`
	MAPPALevel      *int   `json:"mappa_level,omitempty"`
}

// Decode reads a notice's content.
func Decode(raw []byte) (Content, error) {
	var c Content
	if err := json.Unmarshal(raw, &c); err != nil {
		return Content{}, fmt.Errorf("reading notice content: %w", err)
	}
	return c, nil
}

// Level is the DASH level whichever profile carried it.
func (c Content) Level() string {
	if c.DASH != nil {
		return c.DASH.Level
	}
	return c.DASHLevel
}

// ChildNames lists the children's names, for a line in a list.
func (c Content) ChildNames() []string {
	names := make([]string, 0, len(c.Children))
	for _, ch := range c.Children {
		names = append(names, ch.Name)
	}
	return names
}

// DefaultRAG is the rating the router proposed for a MASH notice, read from
// its default_rag_<rating> flag, or derived from the DASH level as the
// default policy does when the flag is missing.
func DefaultRAG(flags []string, dashLevel string) string {
	for _, f := range flags {
		if r, ok := strings.CutPrefix(f, "default_rag_"); ok && ValidRAG(r) {
			return r
		}
	}
	switch dashLevel {
	case ppn.DASHHigh:
		return events.RAGRed
	case ppn.DASHMedium:
		return events.RAGAmber
	}
	return events.RAGGreen
}

// RAGReasons lists what set the proposed rating, from the rag_reason_
// flags, in words.
func RAGReasons(flags []string) []string {
	var out []string
	for _, f := range flags {
		r, ok := strings.CutPrefix(f, "rag_reason_")
		if !ok {
			continue
		}
		switch {
		case r == "unborn":
			out = append(out, "an unborn child")
		case r == "under_one":
			out = append(out, "a child under one")
		case r == "same_parties":
			out = append(out, "repeat incidents between the same adults")
		case strings.HasPrefix(r, "dash_"):
			out = append(out, "DASH "+strings.ReplaceAll(strings.TrimPrefix(r, "dash_"), "_", " "))
		default:
			out = append(out, strings.ReplaceAll(r, "_", " "))
		}
	}
	return out
}

// ValidRAG reports whether r is a RAG rating.
func ValidRAG(r string) bool {
	return slices.Contains([]string{events.RAGRed, events.RAGAmber, events.RAGGreen}, r)
}

// Decisions lists the MASH decisions in the order a worker weighs them.
func Decisions() []string {
	return []string{events.DecisionNoFurtherAction, events.DecisionEarlyHelp, events.DecisionSection17,
		events.DecisionSection47, events.DecisionMARACReferral}
}

// DecisionLabel is a decision in words.
func DecisionLabel(d string) string {
	switch d {
	case events.DecisionNoFurtherAction:
		return "No further action"
	case events.DecisionEarlyHelp:
		return "Early help"
	case events.DecisionSection17:
		return "Section 17 (child in need)"
	case events.DecisionSection47:
		return "Section 47 strategy discussion"
	case events.DecisionMARACReferral:
		return "MARAC referral"
	}
	return d
}

// FlagLabel is a routing flag in words; flags the pages do not know are
// shown as they are, with spaces.
func FlagLabel(f string) string {
	switch f {
	case "cumulative_harm":
		return "Cumulative harm"
	case "allocated_worker_same_day":
		return "Allocated worker to hear today (open case or child protection plan)"
	case "escalation":
		return "Escalation"
	case "repeat_child":
		return "Repeat: third incident for a child in 12 months"
	case "repeat_same_parties":
		return "Repeat incidents between the same adults"
	case "pre_birth_consideration":
		return "Pre-birth consideration"
	case "marac_criteria_met":
		return "MARAC criteria met"
	case "mappa":
		return "MAPPA"
	case "school_calendar_fallback":
		return "School calendar unknown: default deadline used"
	}
	return strings.ReplaceAll(f, "_", " ")
}

// ShownFlags drops the flags that only carry the proposed rating, which
// pages show on their own.
func ShownFlags(flags []string) []string {
	var out []string
	for _, f := range flags {
		if !strings.HasPrefix(f, "default_rag_") && !strings.HasPrefix(f, "rag_reason_") {
			out = append(out, f)
		}
	}
	return out
}

// NameKey normalises a name for matching people across incidents: lower
// case, letters and digits only, single spaces.
func NameKey(name string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r > 127 && r != ' ':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

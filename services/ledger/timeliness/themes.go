package timeliness

// Theme is one of the five themes the Medway review (TONIC, 2024) condensed
// the JTAI criteria into; the report groups its evidence under them so a
// partnership board reads it in the terms of its own review.
type Theme struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	// Evidence lists the rows of domain.md section 1.1 (what inspectors
	// are likely to test) that this theme's figures answer.
	Evidence []string `json:"evidence"`
}

// The five themes, in the review's order and wording.
var themes = []Theme{
	{1, "Child Centred Practice and Direct Support for Children", []string{
		"1 Children, including unborn, are identified as victims at the first police contact",
		"2 The voice and lived experience of the child is captured",
		"9 Schools are told before the next school day (Operation Encompass)",
		"10 Early-years settings and health visitors know about under-5s",
	}},
	{2, "Support and Protection for Adults", []string{
		"11 Maternity services know about pregnant victims",
		"12 Adult victims get a risk assessment and IDVA or MARAC referral where high risk",
	}},
	{3, "Multi-Agency and Partnership Collaboration", []string{
		"3 Police notifications reach the front door (MASH) promptly",
		"4 Front-door triage decisions are timely and recorded with reasons",
	}},
	{4, "Effective Intervention, Risk Management and Criminal Justice", []string{
		"12 MARAC referral where high risk",
		"13 Perpetrator risk is known to probation, and probation knows about the children",
		"14 Repeat and escalating abuse is spotted",
	}},
	{5, "Leadership, Strategic Planning and Continuous Intervention", []string{
		"15 Leaders use data on prevalence and timeliness",
	}},
}

// ruleThemes files each rule of domain.md section 8.3 under a theme.
var ruleThemes = map[string]int{
	"R8": 1, "R9": 1, "R10": 1, "R11": 1, "R12": 1, "R17": 1,
	"R13": 2, "R14": 2,
	"R1": 3, "R2": 3, "R3": 3, "R4": 3, "R5": 3, "R7": 3,
	"R6": 4, "R15": 4,
}

// themeOf files a rule and recipient kind. R16 goes to two places: its
// IDVA notice supports the adult victim, its MARAC notice manages risk. A
// rule the policy added under an id of its own is multi-agency work.
func themeOf(ruleID, kind string) int {
	if ruleID == "R16" {
		if kind == "idva" {
			return 2
		}
		return 4
	}
	if n, ok := ruleThemes[ruleID]; ok {
		return n
	}
	return 3
}

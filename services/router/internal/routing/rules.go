package routing

import (
	"fmt"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
)

// frontDoor is what the MASH notice carries from code: R2a's proposal and
// R2's deadline.
type frontDoor struct {
	proposal  RAGProposal
	triageDue time.Time
}

// selected is a rule that fired: its children, deadline option and flags.
type selected struct {
	rule     *policy.Rule
	children []ppn.Child
	facts    []policy.ChildFacts
	option   policy.DueOption
	start    time.Time
	flags    []string
}

// apply evaluates one rule and adds the notices it calls for.
func (e *evaluation) apply(rule *policy.Rule, scope *policy.Scope, r rating, door *frontDoor) error {
	s, fired, err := e.selectFor(rule, scope, r)
	if err != nil || !fired {
		return err
	}
	if door != nil {
		s.flags = append(s.flags, door.proposal.Flags()...)
		for _, kind := range e.unrouted {
			s.flags = append(s.flags, flagUnroutedPrefix+string(kind))
		}
	}
	switch rule.Find {
	case policy.FindEducationSetting, policy.FindEarlyYearsSetting:
		return e.settings(s)
	case policy.FindGPPractice:
		return e.gps(s)
	}
	return e.organisation(s, door)
}

// selectFor decides whether a rule fires, for which children, with which
// deadline and flags.
func (e *evaluation) selectFor(rule *policy.Rule, scope *policy.Scope, r rating) (selected, bool, error) {
	s := selected{rule: rule}
	fires, err := scope.Holds(rule.When)
	if err != nil || !fires {
		return s, false, wrapRule(rule, err)
	}
	for i, c := range e.in.Children {
		in, err := scope.HoldsFor(rule.Children, e.facts.Children[i])
		if err != nil {
			return s, false, wrapRule(rule, err)
		}
		if in {
			s.children = append(s.children, c)
			s.facts = append(s.facts, e.facts.Children[i])
		}
	}
	if rule.Children != nil && len(s.children) == 0 {
		return s, false, nil
	}
	if s.option, err = scope.Deadline(rule.Due); err != nil {
		return s, false, wrapRule(rule, err)
	}
	s.start = e.startOf(rule.Start, r)
	for _, f := range rule.Flags {
		set, err := scope.Holds(f.When)
		if err != nil {
			return s, false, wrapRule(rule, err)
		}
		if set {
			s.flags = append(s.flags, f.Name)
		}
	}
	return s, true, nil
}

func wrapRule(rule *policy.Rule, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("rule %s (line %d): %w", rule.ID, rule.Line, err)
}

// startOf returns when a rule's deadline is counted from.
func (e *evaluation) startOf(s policy.Start, r rating) time.Time {
	switch s {
	case policy.StartMASHReceived:
		return e.mashReceived
	case policy.StartRAGAssigned:
		return r.assigned
	}
	return e.in.OccurredAt
}

// triageDue is R2's deadline from the MASH's receipt, for the proposed
// rating that the scope holds as default_rag.
func (e *evaluation) triageDue(scope *policy.Scope) (time.Time, error) {
	opt, err := scope.Deadline(e.pol.Triage.Due)
	if err != nil {
		return time.Time{}, fmt.Errorf("rule %s: %w", e.pol.Triage.ID, err)
	}
	return e.cal.after(opt.Deadline, e.mashReceived).At, nil
}

// organisation sends one notice to the incident's local authority's
// organisation of the rule's kind: its MASH, or its service.
func (e *evaluation) organisation(s selected, door *frontDoor) error {
	rule := s.rule
	recipient, ok := e.service(rule.Kind)
	if !ok {
		return nil
	}
	children := s.children
	if rule.Children == nil {
		children = e.in.Children
	}
	profile := rule.ProfileFor(e.in.LocalAuthorityCode)
	body, children := e.notice(rule, profile, children)
	req := request{rule: rule.ID, purpose: rule.Purpose, lawfulBasis: rule.LawfulBasis, recipient: recipient,
		children: children, due: e.cal.after(s.option.Deadline, s.start), profile: profile, body: body, flags: s.flags}
	if door != nil {
		req.triageDue = door.triageDue
	}
	return e.add(req)
}

// notice builds the minimised notice a rule names, and returns the
// children it is about.
func (e *evaluation) notice(rule *policy.Rule, profile events.Profile, children []ppn.Child) (any, []ppn.Child) {
	switch rule.Notice {
	case policy.NoticePolice:
		return notice.BuildA(e.in, e.in.Adults), children
	case policy.NoticeVictimFocused:
		return notice.BuildA(e.in, victimsAndPerpetrators(e.in.Adults)), children
	case policy.NoticeEducation:
		return e.educationNotice(rule, profile, children), children
	case policy.NoticeHealthVisiting:
		return notice.BuildC(e.in, children, e.householdAdults(true)), children
	case policy.NoticeHealthTeam:
		return notice.BuildC(e.in, children, e.householdAdults(false)), children
	case policy.NoticeMidwifery:
		return notice.BuildC(e.in, nil, e.pregnancyAdults()), nil
	}
	return notice.BuildD(e.in), children
}

// educationNotice builds profile B or B_minimal about a setting's children.
func (e *evaluation) educationNotice(rule *policy.Rule, profile events.Profile, children []ppn.Child) any {
	if profile == events.ProfileBMinimal {
		return notice.BuildBMinimal(e.in, children)
	}
	var safeCollection []ppn.Adult
	if rule.AdultsForSafeCollection {
		safeCollection = victimsAndPerpetrators(e.in.Adults)
	}
	return notice.BuildB(e.in, children, safeCollection)
}

// householdAdults names the victim and the perpetrator so that a health
// team knows who is in the household; health visiting also sees the
// victim's pregnancy, because it makes the antenatal contact.
func (e *evaluation) householdAdults(victimAsPatient bool) []notice.HealthAdult {
	var adults []notice.HealthAdult
	for _, a := range victimsAndPerpetrators(e.in.Adults) {
		if a.Role == ppn.RoleVictim && victimAsPatient {
			adults = append(adults, notice.AdultPatient(a, true))
		} else {
			adults = append(adults, notice.AdultNamed(a))
		}
	}
	return adults
}

// pregnancyAdults is the midwifery notice's adults: the pregnant adult
// with the expected due date, and the perpetrator's name.
func (e *evaluation) pregnancyAdults() []notice.HealthAdult {
	var adults []notice.HealthAdult
	for _, a := range e.in.Adults {
		switch {
		case a.Pregnant:
			adults = append(adults, notice.AdultPatient(a, true))
		case a.Role == ppn.RolePerpetrator:
			adults = append(adults, notice.AdultNamed(a))
		}
	}
	return adults
}

// settingGroup is one education setting and its children, in the order
// the children are listed.
type settingGroup struct {
	urn      string
	children []ppn.Child
}

// groupBySetting returns each setting the children name, with its
// children, and whether any child names none.
func groupBySetting(children []ppn.Child) (groups []settingGroup, missing bool) {
	index := map[string]int{}
	for _, c := range children {
		if c.Education == nil || c.Education.URN == "" {
			missing = true
			continue
		}
		i, ok := index[c.Education.URN]
		if !ok {
			i = len(groups)
			index[c.Education.URN] = i
			groups = append(groups, settingGroup{urn: c.Education.URN})
		}
		groups[i].children = append(groups[i].children, c)
	}
	return groups, missing
}

// settings sends each selected child's education setting one notice
// naming only its own children. An early years setting is told only when
// its local authority opted in (local_authorities.csv); a setting that
// cannot be found is flagged to the MASH, for early years only when the
// incident's local authority opted in.
func (e *evaluation) settings(s selected) error {
	rule := s.rule
	earlyYears := rule.Find == policy.FindEarlyYearsSetting
	flagMissing := !earlyYears || e.optedIn(e.in.LocalAuthorityCode)
	groups, missing := groupBySetting(s.children)
	if missing && flagMissing {
		e.unrouted = append(e.unrouted, rule.Kind)
	}
	for _, g := range groups {
		setting, ok := e.ref.School(g.urn)
		if !ok {
			if flagMissing {
				e.unrouted = append(e.unrouted, rule.Kind)
			}
			continue
		}
		if earlyYears && !e.optedIn(setting.LocalAuthorityCode) {
			continue
		}
		d := e.cal.after(s.option.Deadline, s.start)
		if s.option.Deadline.Calendar == calendar.SchoolDay {
			d = e.cal.schoolDay(s.start, setting.Calendar, *s.option.Fallback)
		}
		profile := rule.ProfileFor(setting.LocalAuthorityCode)
		req := request{rule: rule.ID, purpose: rule.Purpose, lawfulBasis: rule.LawfulBasis,
			recipient: events.Recipient{Kind: rule.Kind, ID: setting.URN, Name: setting.Name, Email: setting.DSLEmail},
			children:  g.children, due: d, profile: profile, body: e.educationNotice(rule, profile, g.children), flags: s.flags}
		if rule.SendBy != nil {
			req.sendBy = sendBy(e.in.OccurredAt, d, rule.SendBy.At, rule.SendBy.Within)
		}
		if err := e.add(req); err != nil {
			return err
		}
	}
	return nil
}

func (e *evaluation) optedIn(localAuthorityCode string) bool {
	la, ok := e.ref.LocalAuthority(localAuthorityCode)
	return ok && la.EarlyYearsOptIn
}

// practice is one GP practice and its patients in the incident.
type practice struct {
	ods      string
	children []ppn.Child
	adults   []ppn.Adult
}

// gps sends each GP practice of a selected child or a victim one notice
// naming its own patients only.
func (e *evaluation) gps(s selected) error {
	rule := s.rule
	for _, p := range e.practices(s.children) {
		gp, ok := e.ref.GPPractice(p.ods)
		if !ok {
			e.unrouted = append(e.unrouted, rule.Kind)
			continue
		}
		adults := make([]notice.HealthAdult, 0, len(p.adults))
		for _, a := range p.adults {
			adults = append(adults, notice.AdultPatient(a, true))
		}
		err := e.add(request{rule: rule.ID, purpose: rule.Purpose, lawfulBasis: rule.LawfulBasis,
			recipient: events.Recipient{Kind: rule.Kind, ID: gp.ODSCode, Name: gp.Name, Email: gp.SafeguardingEmail},
			children:  p.children, due: e.cal.after(s.option.Deadline, s.start), profile: rule.Profile,
			body: notice.BuildC(e.in, p.children, adults), flags: s.flags})
		if err != nil {
			return err
		}
	}
	return nil
}

// practices groups the children and the victims by GP practice, in the
// order the practices first appear.
func (e *evaluation) practices(children []ppn.Child) []practice {
	var out []practice
	index := map[string]int{}
	at := func(ods string) *practice {
		i, ok := index[ods]
		if !ok {
			i = len(out)
			index[ods] = i
			out = append(out, practice{ods: ods})
		}
		return &out[i]
	}
	for _, c := range children {
		if c.GPODSCode != "" {
			p := at(c.GPODSCode)
			p.children = append(p.children, c)
		}
	}
	for _, a := range e.in.Adults {
		if a.Role == ppn.RoleVictim && a.GPODSCode != "" {
			p := at(a.GPODSCode)
			p.adults = append(p.adults, a)
		}
	}
	return out
}

func victimsAndPerpetrators(adults []ppn.Adult) []ppn.Adult {
	var out []ppn.Adult
	for _, a := range adults {
		if a.Role == ppn.RoleVictim || a.Role == ppn.RolePerpetrator {
			out = append(out, a)
		}
	}
	return out
}

// IncidentFacts are the facts the policy's expressions read of an
// incident, with Lantern's history of its people, the count of incidents
// of the same parties (this one included) and the proposed rating.
func IncidentFacts(in ppn.Incident, h History, sameParties int, defaultRAG policy.RAG) policy.Facts {
	f := policy.Facts{
		DASH:                    policy.DASHFacts{Level: in.DASH.Level, ProfessionalJudgementHigh: in.DASH.ProfessionalJudgementHigh},
		IncidentsSameParties12m: in.IncidentsSameParties12m, SamePartiesIncidents: sameParties,
		PreviousMARACWithin12m: in.PreviousMARACWithin12m, LocalAuthority: in.LocalAuthorityCode,
		DefaultRAG: string(defaultRAG), Children: make([]policy.ChildFacts, 0, len(in.Children)),
		Adults: make([]policy.AdultFacts, 0, len(in.Adults)),
	}
	if in.DASH.YesCount != nil {
		n := *in.DASH.YesCount
		f.DASH.YesCount = &n
	}
	for _, c := range in.Children {
		age, ok := events.AgeYears(c.DateOfBirth, in.OccurredAt)
		if !ok {
			age = -1
		}
		cf := policy.ChildFacts{PersonID: c.PersonID, Age: age, Present: c.Present, HasGP: c.GPODSCode != "",
			OpenToCSC: c.OpenToCSC, CPPlan: c.CPPlan, RecordedIncidents: h.ChildIncidents[c.PersonID]}
		if c.Education != nil {
			cf.Education, cf.HasSetting = c.Education.Type, c.Education.URN != ""
		}
		f.Children = append(f.Children, cf)
	}
	for _, a := range in.Adults {
		af := policy.AdultFacts{PersonID: a.PersonID, Role: a.Role, Pregnant: a.Pregnant, OnProbation: a.OnProbation,
			HasGP: a.GPODSCode != ""}
		if a.MAPPALevel != nil {
			n := *a.MAPPALevel
			af.MAPPALevel = &n
		}
		f.Adults = append(f.Adults, af)
	}
	return f
}

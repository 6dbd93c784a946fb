package routing

import (
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
)

// mash is R1: every incident with a child or a pregnancy goes to the MASH
// of its local authority, with the full notice and the default rating.
func (e *evaluation) mash(proposal RAGProposal, triageDue time.Time, escalate bool, sameParties int) error {
	rule := e.pol.MASH
	if !rule.Enabled || (len(e.in.Children) == 0 && !anyPregnant(e.in)) {
		return nil
	}
	la, _ := e.ref.LocalAuthority(e.in.LocalAuthorityCode)
	deadline := rule.Due
	if e.in.DASH.Level == ppn.DASHHigh {
		deadline = rule.DueDASHHigh
	}
	flags := proposal.Flags()
	if escalate {
		flags = append(flags, FlagEscalation)
	}
	if sameParties > 1 {
		flags = append(flags, FlagRepeatSameParties)
	}
	if anyPregnant(e.in) {
		flags = append(flags, FlagPreBirthConsideration)
	}
	if e.maracCriteria(sameParties) {
		flags = append(flags, FlagMARACCriteriaMet)
	}
	for _, kind := range e.unrouted {
		flags = append(flags, flagUnroutedPrefix+string(kind))
	}
	err := e.add(request{rule: RuleMASH, purpose: rule.Purpose,
		recipient: events.Recipient{Kind: events.KindMASH, ID: la.Code, Name: la.Name + " MASH", Email: la.MASHEmail},
		children:  e.in.Children, due: e.cal.after(deadline, e.in.OccurredAt), profile: notice.ProfileA,
		body: notice.BuildA(e.in, e.in.Adults), flags: flags, triageDue: triageDue})
	if err != nil {
		return err
	}
	// The MASH notice leads the list, as the front door every other
	// notice follows.
	last := len(e.out) - 1
	e.out = append([]Decision{e.out[last]}, e.out[:last]...)
	return nil
}

// settingGroup is one education setting and its children, in the order
// the children are listed.
type settingGroup struct {
	urn      string
	children []ppn.Child
}

// groupBySetting returns each setting named by a child whose education
// type is one of types, with its children, and the children of those types
// that name no setting.
func groupBySetting(children []ppn.Child, types ...string) (groups []settingGroup, missing []ppn.Child) {
	index := map[string]int{}
	for _, c := range children {
		if c.Education == nil || !contains(types, c.Education.Type) {
			continue
		}
		if c.Education.URN == "" {
			missing = append(missing, c)
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// schools is R8: each school, college or sixteen-to-nineteen provider
// gets one notice naming only its own pupils, due before its next school
// day starts.
func (e *evaluation) schools() error {
	rule := e.pol.School
	if !rule.Enabled {
		return nil
	}
	groups, missing := groupBySetting(e.in.Children, ppn.EducationSchool, ppn.EducationFE, ppn.EducationSixteenToNineteen)
	if len(missing) > 0 {
		e.unrouted = append(e.unrouted, events.KindSchool)
	}
	for _, g := range groups {
		school, ok := e.ref.School(g.urn)
		if !ok {
			e.unrouted = append(e.unrouted, events.KindSchool)
			continue
		}
		d := e.cal.schoolDay(e.in.OccurredAt, school.Calendar, rule.Fallback)
		profile := rule.ProfileFor(school.LocalAuthorityCode)
		err := e.add(request{rule: RuleSchool, purpose: rule.Purpose,
			recipient: events.Recipient{Kind: events.KindSchool, ID: school.URN, Name: school.Name, Email: school.DSLEmail},
			children:  g.children, due: d, profile: profile, body: e.educationNotice(profile, g.children),
			sendBy: sendBy(e.in.OccurredAt, d, rule.SendBy, rule.SendWithin)})
		if err != nil {
			return err
		}
	}
	return nil
}

// educationNotice builds profile B or B_minimal about a setting's children.
func (e *evaluation) educationNotice(profile notice.Profile, children []ppn.Child) any {
	if profile == notice.ProfileBMinimal {
		return notice.BuildBMinimal(e.in, children)
	}
	var safeCollection []ppn.Adult
	if e.pol.School.AdultsForSafeCollection {
		safeCollection = victimsAndPerpetrators(e.in.Adults)
	}
	return notice.BuildB(e.in, children, safeCollection)
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

// homeEducation is R9: children of compulsory school age who are educated
// at home or on no school roll go, in one notice, to the local authority's
// elective home education and children missing education officer.
func (e *evaluation) homeEducation() error {
	rule := e.pol.HomeEducation
	if !rule.Enabled {
		return nil
	}
	var children []ppn.Child
	for _, c := range e.in.Children {
		if c.Education == nil || (c.Education.Type != ppn.EducationHomeEducated && c.Education.Type != ppn.EducationNone) {
			continue
		}
		if age, ok := notice.AgeYears(c.DateOfBirth, e.in.OccurredAt); ok && rule.Ages.Contains(age) {
			children = append(children, c)
		}
	}
	if len(children) == 0 {
		return nil
	}
	r, ok := e.service(events.KindHomeEducation)
	if !ok {
		return nil
	}
	return e.add(request{rule: RuleHomeEducation, purpose: rule.Purpose, recipient: r, children: children,
		due: e.cal.after(rule.Due, e.in.OccurredAt), profile: notice.ProfileBMinimal,
		body: notice.BuildBMinimal(e.in, children)})
}

// earlyYears is R10: a child at a registered early years setting, found
// among the schools by its URN, when the setting's local authority has
// opted in.
func (e *evaluation) earlyYears() error {
	rule := e.pol.EarlyYears
	if !rule.Enabled {
		return nil
	}
	groups, missing := groupBySetting(e.in.Children, ppn.EducationEarlyYears)
	if len(missing) > 0 && e.optedIn(e.in.LocalAuthorityCode) {
		e.unrouted = append(e.unrouted, events.KindEarlyYears)
	}
	for _, g := range groups {
		setting, ok := e.ref.School(g.urn)
		if !ok {
			if e.optedIn(e.in.LocalAuthorityCode) {
				e.unrouted = append(e.unrouted, events.KindEarlyYears)
			}
			continue
		}
		if !e.optedIn(setting.LocalAuthorityCode) {
			continue
		}
		d := e.cal.after(rule.Due, e.in.OccurredAt)
		if rule.Due.Calendar == calendar.SchoolDay {
			d = e.cal.schoolDay(e.in.OccurredAt, setting.Calendar, e.pol.School.Fallback)
		}
		err := e.add(request{rule: RuleEarlyYears, purpose: rule.Purpose,
			recipient: events.Recipient{Kind: events.KindEarlyYears, ID: setting.URN, Name: setting.Name, Email: setting.DSLEmail},
			children:  g.children, due: d, profile: notice.ProfileBMinimal, body: notice.BuildBMinimal(e.in, g.children)})
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *evaluation) optedIn(localAuthorityCode string) bool {
	la, ok := e.ref.LocalAuthority(localAuthorityCode)
	return ok && la.EarlyYearsOptIn
}

// healthTeam is R11 and R12: the children of the team's ages, in one
// notice, with the victim and perpetrator named so that the team knows who
// is in the household. Health visiting also sees a pregnancy, because it
// makes the antenatal contact.
func (e *evaluation) healthTeam(ruleID string, rule policy.HealthRule, r rating) error {
	if !rule.Enabled {
		return nil
	}
	var children []ppn.Child
	for _, c := range e.in.Children {
		if age, ok := notice.AgeYears(c.DateOfBirth, e.in.OccurredAt); ok && rule.Ages.Contains(age) {
			children = append(children, c)
		}
	}
	if len(children) == 0 {
		return nil
	}
	kind := events.KindSchoolNursing
	if ruleID == RuleHealthVisiting {
		kind = events.KindHealthVisiting
	}
	recipient, ok := e.service(kind)
	if !ok {
		return nil
	}
	var adults []notice.HealthAdult
	for _, a := range victimsAndPerpetrators(e.in.Adults) {
		if a.Role == ppn.RoleVictim && kind == events.KindHealthVisiting {
			adults = append(adults, notice.AdultPatient(a, true))
		} else {
			adults = append(adults, notice.AdultNamed(a))
		}
	}
	deadline := rule.Due
	if r.rag == policy.Red {
		deadline = rule.DueRed
	}
	return e.add(request{rule: ruleID, purpose: rule.Purpose, recipient: recipient, children: children,
		due: e.cal.after(deadline, r.assigned), profile: notice.ProfileC, body: notice.BuildC(e.in, children, adults)})
}

// midwifery is R13: a pregnant adult goes to the maternity safeguarding
// team, with the expected due date and the perpetrator's name.
func (e *evaluation) midwifery(defaultRAG policy.RAG) error {
	rule := e.pol.Midwifery
	if !rule.Enabled || !anyPregnant(e.in) {
		return nil
	}
	recipient, ok := e.service(events.KindMidwifery)
	if !ok {
		return nil
	}
	var adults []notice.HealthAdult
	for _, a := range e.in.Adults {
		switch {
		case a.Pregnant:
			adults = append(adults, notice.AdultPatient(a, true))
		case a.Role == ppn.RolePerpetrator:
			adults = append(adults, notice.AdultNamed(a))
		}
	}
	deadline := rule.Due
	if defaultRAG == policy.Red {
		deadline = rule.DueRed
	}
	return e.add(request{rule: RuleMidwifery, purpose: rule.Purpose, recipient: recipient,
		due: e.cal.after(deadline, e.mashReceived), profile: notice.ProfileC, body: notice.BuildC(e.in, nil, adults)})
}

// practice is one GP practice and its patients in the incident.
type practice struct {
	ods      string
	children []ppn.Child
	adults   []ppn.Adult
}

// gps is R14: each GP practice of a child or a victim gets one notice
// naming its own patients only.
func (e *evaluation) gps(r rating) error {
	rule := e.pol.GP
	if !rule.Enabled {
		return nil
	}
	for _, p := range e.practices() {
		gp, ok := e.ref.GPPractice(p.ods)
		if !ok {
			e.unrouted = append(e.unrouted, events.KindGP)
			continue
		}
		adults := make([]notice.HealthAdult, 0, len(p.adults))
		for _, a := range p.adults {
			adults = append(adults, notice.AdultPatient(a, true))
		}
		err := e.add(request{rule: RuleGP, purpose: rule.Purpose,
			recipient: events.Recipient{Kind: events.KindGP, ID: gp.ODSCode, Name: gp.Name, Email: gp.SafeguardingEmail},
			children:  p.children, due: e.cal.after(rule.Due, r.assigned), profile: notice.ProfileC,
			body: notice.BuildC(e.in, p.children, adults)})
		if err != nil {
			return err
		}
	}
	return nil
}

// practices groups the children and victims by GP practice, in the order
// the practices first appear.
func (e *evaluation) practices() []practice {
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
	for _, c := range e.in.Children {
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

// probation is R15: an adult on probation or managed under MAPPA goes to
// the probation seat of the MASH, with profile D.
func (e *evaluation) probation() error {
	rule := e.pol.Probation
	if !rule.Enabled {
		return nil
	}
	supervised, mappa := false, false
	for _, a := range e.in.Adults {
		supervised = supervised || notice.Supervised(a)
		mappa = mappa || (a.MAPPALevel != nil && *a.MAPPALevel > 0)
	}
	if !supervised {
		return nil
	}
	recipient, ok := e.service(events.KindProbation)
	if !ok {
		return nil
	}
	deadline := rule.Due
	if e.in.DASH.Level == ppn.DASHHigh || mappa {
		deadline = rule.DueUrgent
	}
	var flags []string
	if mappa {
		flags = append(flags, FlagMAPPA)
	}
	return e.add(request{rule: RuleProbation, purpose: rule.Purpose, recipient: recipient, children: e.in.Children,
		due: e.cal.after(deadline, e.mashReceived), profile: notice.ProfileD, body: notice.BuildD(e.in), flags: flags})
}

// maracCriteria reports whether R16's criteria hold.
func (e *evaluation) maracCriteria(sameParties int) bool {
	rule := e.pol.MARAC
	dash := e.in.DASH
	return (dash.YesCount != nil && *dash.YesCount >= rule.DASHYesCount) || dash.ProfessionalJudgementHigh ||
		sameParties >= rule.SamePartiesIncidents || e.in.PreviousMARACWithin12m
}

// marac is R16: a high-risk or repeat case goes to the MARAC coordinator
// and to the IDVA service, each with the victim-focused profile A.
func (e *evaluation) marac(sameParties int) error {
	rule := e.pol.MARAC
	adults := victimsAndPerpetrators(e.in.Adults)
	if !rule.Enabled || !e.maracCriteria(sameParties) || !hasVictim(adults) {
		return nil
	}
	var flags []string
	if sameParties > 1 {
		flags = append(flags, FlagRepeatSameParties)
	}
	body := notice.BuildA(e.in, adults)
	for _, target := range []struct {
		kind     events.RecipientKind
		deadline policy.Deadline
	}{{events.KindMARAC, rule.DueMARAC}, {events.KindIDVA, rule.DueIDVA}} {
		recipient, ok := e.service(target.kind)
		if !ok {
			continue
		}
		err := e.add(request{rule: RuleMARAC, purpose: rule.Purpose, recipient: recipient, children: e.in.Children,
			due: e.cal.after(target.deadline, e.in.OccurredAt), profile: notice.ProfileA, body: body, flags: flags})
		if err != nil {
			return err
		}
	}
	return nil
}

func hasVictim(adults []ppn.Adult) bool {
	for _, a := range adults {
		if a.Role == ppn.RoleVictim {
			return true
		}
	}
	return false
}

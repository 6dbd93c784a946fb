package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

var (
	// ruleIDPattern is notification.requested's rule_id.
	ruleIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// namePattern is a flag or a condition: notification.requested allows
	// only [a-z0-9_] in a flag.
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// kinds reads recipient_kinds: the kinds a partnership adds to the
// contract's list, each a lowercase word that becomes the last token of
// its subjects.
func (r *reader) kinds(top *object) []KindDecl {
	o, ok := top.optionalSub("recipient_kinds")
	if !ok {
		return nil
	}
	var out []KindDecl
	for _, name := range o.order {
		field := o.field(name)
		kind := events.RecipientKind(name)
		switch {
		case events.IsBuiltinKind(kind):
			r.add(o.keys[name].Line, field, "is already one of the contract's recipient kinds")
		case !events.PlainKindWord(name):
			r.add(o.keys[name].Line, field, "a recipient kind must be lowercase words joined by _, at most 32 characters")
		}
		k := o.sub(name)
		out = append(out, KindDecl{Kind: kind, Label: k.text("label", 128), Line: o.keys[name].Line})
		k.finish()
	}
	return out
}

type conditionNode struct {
	name, field string
	node        *yaml.Node
}

func (r *reader) conditionNodes(top *object) []conditionNode {
	o, ok := top.optionalSub("conditions")
	if !ok {
		return nil
	}
	var out []conditionNode
	for _, name := range o.order {
		o.used[name] = true
		if !namePattern.MatchString(name) {
			r.add(o.keys[name].Line, o.field(name), "a condition's name must be lowercase letters, digits and _")
			continue
		}
		out = append(out, conditionNode{name: name, field: o.field(name), node: o.values[name]})
	}
	return out
}

// rules reads the list of rules: R2 (step: triage), R17 (marks:
// repeat_child) and the rules that send notices.
func (r *reader) rules(v *yaml.Node, p *Policy) {
	if v.Kind != yaml.SequenceNode {
		r.add(v.Line, "rules", "must be a list of rules, each starting with - id:")
		return
	}
	var triage, repeat bool
	seen := map[string]int{}
	for i, item := range v.Content {
		path := fmt.Sprintf("rules[%d]", i)
		o := r.newObject(item, path)
		if id, ok := o.values["id"]; ok && id.Kind == yaml.ScalarNode {
			path = "rules." + id.Value
			o.path = path
		}
		switch {
		case o.values["step"] != nil:
			if triage {
				r.add(item.Line, path, "R2, the triage step, is given twice")
			}
			triage = true
			p.Triage = r.triageRule(o)
		case o.values["marks"] != nil:
			if repeat {
				r.add(item.Line, path, "the repeat-child rule is given twice")
			}
			repeat = true
			p.Repeat = r.repeatRule(o)
		default:
			rule := r.noticeRule(o, p)
			key := rule.ID + "/" + string(rule.On) + "/" + string(rule.Kind)
			if line, dup := seen[key]; dup {
				r.add(item.Line, path, "rule %s already sends to %s on %s at line %d", rule.ID, rule.Kind, rule.On, line)
			}
			seen[key] = item.Line
			p.Rules = append(p.Rules, rule)
		}
		o.finish()
	}
	if !triage {
		r.add(v.Line, "rules", "R2, the MASH's triage deadline (step: triage), is required")
	}
	if !repeat {
		r.add(v.Line, "rules", "the repeat-child rule (marks: repeat_child) is required; set enabled: false to switch it off")
	}
}

func (r *reader) header(o *object) (id, purpose string) {
	if v, ok := o.scalar("id"); ok {
		id = v.Value
		if !ruleIDPattern.MatchString(id) {
			r.add(v.Line, o.path+".id", "%q must be 1 to 64 letters, digits or . _ - and start with a letter or digit", id)
		}
	}
	return id, o.text("purpose", 512)
}

func (r *reader) triageRule(o *object) TriageRule {
	t := TriageRule{}
	t.ID, t.Purpose = r.header(o)
	if v, ok := o.scalar("step"); ok && v.Value != "triage" {
		r.add(v.Line, o.field("step"), "%q is not triage", v.Value)
	}
	if start := r.start(o); start != "" && start != StartMASHReceived {
		r.add(o.values["start"].Line, o.field("start"), "R2 runs from mash_received, the MASH's receipt")
	}
	t.Due = r.dueOptions(o, scopeIncident, false)
	return t
}

func (r *reader) repeatRule(o *object) RepeatChildRule {
	rc := RepeatChildRule{Enabled: r.enabled(o)}
	rc.ID, rc.Purpose = r.header(o)
	if v, ok := o.scalar("marks"); ok && v.Value != "repeat_child" {
		r.add(v.Line, o.field("marks"), "%q is not repeat_child", v.Value)
	}
	if v, ok := o.take("children"); ok {
		rc.Children = r.expression(v, o.field("children"), scopeChildIncident)
	}
	return rc
}

func (r *reader) enabled(o *object) bool {
	if _, ok := o.values["enabled"]; !ok {
		o.used["enabled"] = true
		return true
	}
	return o.boolean("enabled")
}

func (r *reader) start(o *object) Start {
	v, ok := o.scalar("start")
	if !ok {
		return ""
	}
	s := Start(v.Value)
	if !slices.Contains([]Start{StartIncident, StartMASHReceived, StartRAGAssigned}, s) {
		r.add(v.Line, o.field("start"), "%q is not incident_at, mash_received or rag_assigned", v.Value)
	}
	return s
}

// noticeRule reads a rule that sends notices.
func (r *reader) noticeRule(o *object, p *Policy) *Rule {
	rule := &Rule{Enabled: r.enabled(o), On: OnIncident, Line: o.line, LawfulBasis: p.LawfulBasis}
	rule.ID, rule.Purpose = r.header(o)
	if v, ok := o.optional("on"); ok {
		rule.On = Event(v.Value)
		if rule.On != OnIncident && rule.On != OnTriage {
			r.add(v.Line, o.field("on"), "%q is not incident or triage", v.Value)
		}
	}
	sc, childScope := scopeIncident, scopeChildIncident
	if rule.On == OnTriage {
		sc, childScope = scopeTriage, scopeChildTriage
	}
	if v, ok := o.optional("when"); ok {
		rule.When = r.expression(v, o.field("when"), sc)
	}
	if v, ok := o.optional("children"); ok {
		rule.Children = r.expression(v, o.field("children"), childScope)
	}
	r.recipient(o, p, rule)
	r.profileAndNotice(o, rule)
	rule.Start = r.start(o)
	rule.Due = r.dueOptions(o, sc, rule.Find == FindEducationSetting || rule.Find == FindEarlyYearsSetting)
	rule.Flags = r.flags(o, sc)
	if v, ok := o.optional("lawful_basis"); ok {
		rule.LawfulBasis = o.checkText(v, o.field("lawful_basis"), 256)
	}
	if s, ok := o.optionalSub("send_by"); ok {
		rule.SendBy = &SendBy{At: s.timeOfDay("at"), Within: s.duration("within")}
		s.finish()
	}
	if _, ok := o.values["adults_for_safe_collection"]; ok {
		rule.AdultsForSafeCollection = o.boolean("adults_for_safe_collection")
		if rule.Notice != NoticeEducation {
			r.add(o.keys["adults_for_safe_collection"].Line, o.field("adults_for_safe_collection"), "applies only to the education notice")
		}
	}
	if v, ok := o.optional("code"); ok {
		if v.Value != CodeMASHFrontDoor || rule.Kind != events.KindMASH || rule.On != OnIncident {
			r.add(v.Line, o.field("code"), "only a MASH rule on incident can name code %s", CodeMASHFrontDoor)
		}
		rule.FrontDoor = true
	}
	return rule
}

// finders lists the finders with the notices each allows (nil: any notice
// of a single organisation).
var finders = map[Finder][]NoticeCode{
	FindLocalAuthority:    nil,
	FindEducationSetting:  {NoticeEducation},
	FindEarlyYearsSetting: {NoticeEducation},
	FindGPPractice:        {NoticeGP},
}

func (r *reader) recipient(o *object, p *Policy, rule *Rule) {
	rc := o.sub("recipient")
	defer rc.finish()
	if v, ok := rc.scalar("kind"); ok {
		rule.Kind = events.RecipientKind(v.Value)
		declared := slices.ContainsFunc(p.Kinds, func(k KindDecl) bool { return k.Kind == rule.Kind })
		if !events.IsBuiltinKind(rule.Kind) && !declared {
			r.add(v.Line, rc.field("kind"), "%q is not a recipient kind: use one of the contract's or declare it under recipient_kinds", v.Value)
		}
	}
	if v, ok := rc.scalar("find"); ok {
		rule.Find = Finder(v.Value)
		if _, known := finders[rule.Find]; !known {
			r.add(v.Line, rc.field("find"), "%q is not local_authority, education_setting, early_years_setting or gp_practice", v.Value)
		}
		if rule.Kind == events.KindMASH && rule.Find != FindLocalAuthority {
			r.add(v.Line, rc.field("find"), "the MASH is found by local_authority")
		}
	}
}

// noticeProfiles says which profiles each notice can be sent as.
var noticeProfiles = map[NoticeCode][]events.Profile{
	NoticePolice:         {events.ProfileA},
	NoticeVictimFocused:  {events.ProfileA},
	NoticeEducation:      {events.ProfileB, events.ProfileBMinimal},
	NoticeHealthVisiting: {events.ProfileC},
	NoticeHealthTeam:     {events.ProfileC},
	NoticeMidwifery:      {events.ProfileC},
	NoticeGP:             {events.ProfileC},
	NoticeProbation:      {events.ProfileD},
}

// defaultNotice is the notice of a profile when a rule names none.
var defaultNotice = map[events.Profile]NoticeCode{
	events.ProfileA: NoticeVictimFocused, events.ProfileB: NoticeEducation, events.ProfileBMinimal: NoticeEducation,
	events.ProfileC: NoticeHealthTeam, events.ProfileD: NoticeProbation,
}

var allProfiles = []events.Profile{events.ProfileA, events.ProfileB, events.ProfileBMinimal, events.ProfileC, events.ProfileD}

func (r *reader) profileAndNotice(o *object, rule *Rule) {
	rule.Profile = o.profile("profile", allProfiles...)
	rule.Notice = defaultNotice[rule.Profile]
	if v, ok := o.optional("notice"); ok {
		rule.Notice = NoticeCode(v.Value)
		if _, known := noticeProfiles[rule.Notice]; !known {
			r.add(v.Line, o.field("notice"), "%q is not a notice Lantern can build", v.Value)
			return
		}
	}
	allowed := noticeProfiles[rule.Notice]
	if rule.Profile != "" && !slices.Contains(allowed, rule.Profile) {
		r.add(o.line, o.field("profile"), "the %s notice is sent as %v, not %s", rule.Notice, allowed, rule.Profile)
	}
	if want := finders[rule.Find]; want != nil && !slices.Contains(want, rule.Notice) {
		r.add(o.line, o.field("notice"), "recipients found by %s get the %v notice", rule.Find, want)
	}
	if rule.Notice == NoticeGP && rule.Find != FindGPPractice {
		r.add(o.line, o.field("notice"), "the gp notice needs recipient.find gp_practice")
	}
	rule.ProfileByLocalAuthority = map[string]events.Profile{}
	if byLA, ok := o.optionalSub("profile_by_local_authority"); ok {
		for _, code := range byLA.order {
			byLA.used[code] = true
			value := byLA.values[code]
			if value.Kind != yaml.ScalarNode {
				r.add(value.Line, byLA.field(code), "must be one of %v", allowed)
				continue
			}
			rule.ProfileByLocalAuthority[code] = byLA.checkProfile(value, byLA.field(code), allowed)
		}
	}
}

// dueOptions reads due: a list of deadlines, each with an optional when;
// the first that holds applies, and the last must hold always.
func (r *reader) dueOptions(o *object, sc scope, schoolDay bool) []DueOption {
	v, ok := o.take("due")
	if !ok {
		return nil
	}
	field := o.field("due")
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		r.add(v.Line, field, "must be a list of deadlines such as - {calendar: clock, limit: 4h}")
		return nil
	}
	allowed := timed
	if schoolDay {
		allowed = append(slices.Clone(timed), calendar.SchoolDay)
	}
	var out []DueOption
	for i, item := range v.Content {
		d := r.newObject(item, fmt.Sprintf("%s[%d]", field, i))
		opt := DueOption{Deadline: d.deadlineFields(allowed)}
		if w, ok := d.optional("when"); ok {
			opt.When = r.expression(w, d.field("when"), sc)
		}
		if opt.Deadline.Calendar == calendar.SchoolDay {
			fb := d.deadline("fallback", timed...)
			opt.Fallback = &fb
		}
		d.finish()
		out = append(out, opt)
	}
	if last := out[len(out)-1]; last.When != nil || v.Content[len(v.Content)-1].Kind == yaml.MappingNode && hasKey(v.Content[len(v.Content)-1], "when") {
		r.add(v.Content[len(v.Content)-1].Line, field, "the last deadline must have no when, so that one always applies")
	}
	return out
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (r *reader) flags(o *object, sc scope) []FlagRule {
	v, ok := o.optional("flags")
	if !ok {
		return nil
	}
	f := r.newObject(v, o.field("flags"))
	var out []FlagRule
	for _, name := range f.order {
		f.used[name] = true
		if !namePattern.MatchString(name) {
			r.add(f.keys[name].Line, f.field(name), "a flag must be lowercase letters, digits and _")
		}
		out = append(out, FlagRule{Name: name, When: r.expression(f.values[name], f.field(name), sc)})
	}
	return out
}

// expression compiles a CEL expression of the file, reporting any problem
// at its line and column in the file and at its column in the expression.
func (r *reader) expression(v *yaml.Node, field string, sc scope) *Expr {
	if v.Kind != yaml.ScalarNode || v.Value == "" {
		r.add(v.Line, field, "must be an expression, such as \"dash.level == 'high'\"")
		return nil
	}
	if r.compiler == nil {
		return nil
	}
	x, errs := r.compiler.compileBool(v.Value, sc)
	for _, e := range errs {
		line, col := r.position(v, e.line, e.column)
		r.problems = append(r.problems, Problem{File: r.file, Line: line, Column: col, Field: field,
			Message: fmt.Sprintf("expression column %d: %s", e.column, e.message)})
	}
	return x
}

// position maps a line and column of an expression to the file. A block
// scalar's text starts on the line after its indicator and loses its
// indentation (and, folded, its line breaks), so the offset in the text is
// walked back over the file's lines.
func (r *reader) position(v *yaml.Node, line, column int) (int, int) {
	switch v.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		offset := offsetOf(v.Value, line, column)
		for fileLine := v.Line + 1; fileLine <= len(r.lines); fileLine++ {
			text := r.lines[fileLine-1]
			content := trimLeftSpace(text)
			if offset <= len(content) {
				return fileLine, len(text) - len(content) + offset
			}
			offset -= len(content) + 1
		}
		return v.Line, v.Column
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line > 1 {
			return v.Line + line - 1, column
		}
		return v.Line, v.Column + column
	}
	if line > 1 {
		return v.Line + line - 1, column
	}
	return v.Line, v.Column + column - 1
}

// offsetOf turns a line and column (from 1) of text into a 1-based offset.
func offsetOf(text string, line, column int) int {
	offset := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(text[offset:], '\n')
		if i < 0 {
			break
		}
		offset += i + 1
	}
	return offset + column
}

func trimLeftSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

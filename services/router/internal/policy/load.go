package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/notice"
)

// versionPattern keeps versions to what notification.requested's
// policy_version and a log line can carry safely.
var versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)

// Load reads and checks the policy file at path.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy file: %w", err)
	}
	return Parse(path, data)
}

// Parse checks the policy text data, read from file, and returns the
// policy or a *LoadError naming every problem by file, line and field.
func Parse(file string, data []byte) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &LoadError{File: file, Problems: []Problem{{File: file, Line: yamlErrorLine(err), Message: err.Error()}}}
	}
	if len(doc.Content) == 0 {
		return nil, &LoadError{File: file, Problems: []Problem{{File: file, Line: 1, Message: "the file is empty"}}}
	}
	r := &reader{file: file}
	p := r.policy(doc.Content[0])
	if len(r.problems) > 0 {
		return nil, &LoadError{File: file, Problems: r.problems}
	}
	sum := sha256.Sum256(data)
	p.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return p, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlErrorLine pulls the line number out of a YAML syntax error, which
// the library only gives in its message.
func yamlErrorLine(err error) int {
	var typeErr *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &typeErr) && len(typeErr.Errors) > 0 {
		msg = typeErr.Errors[0]
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return 1
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 1
	}
	return n
}

func (r *reader) policy(root *yaml.Node) *Policy {
	top := r.newObject(root, "")
	p := &Policy{}
	if v, ok := top.scalar("version"); ok {
		p.Version = v.Value
		if !versionPattern.MatchString(v.Value) {
			r.add(v.Line, "version", "%q must be 1 to 64 letters, digits or . _ + - and start with a letter or digit", v.Value)
		}
	}
	p.LawfulBasis = top.text("lawful_basis", 256)
	p.RepeatWindowMonths = top.integer("repeat_window_months", 1, 60)
	p.DefaultRAG = r.defaultRAG(top.sub("default_rag"))
	r.rules(top.sub("rules"), p)
	top.finish()
	return p
}

func (r *reader) defaultRAG(o *object) DefaultRAG {
	d := DefaultRAG{ByDASH: map[string]RAG{}}
	dash := o.sub("dash")
	for _, level := range []string{ppn.DASHHigh, ppn.DASHMedium, ppn.DASHStandard, ppn.DASHNotCompleted} {
		d.ByDASH[level] = dash.rag(level)
	}
	dash.finish()
	d.YoungChildFloor = o.rag("unborn_or_under_one_floor")
	d.SamePartiesIncidents = o.integer("same_parties_incidents", 1, 100)
	d.SamePartiesFloor = o.rag("same_parties_floor")
	o.finish()
	return d
}

// rules reads each rule's settings under its id. Every rule must be
// present, so that the file alone says what the policy is.
func (r *reader) rules(o *object, p *Policy) {
	p.MASH = r.mash(o.sub("R1"))
	p.Triage = r.triage(o.sub("R2"))
	p.School = r.school(o.sub("R8"))
	p.HomeEducation = r.homeEducation(o.sub("R9"))
	p.EarlyYears = r.earlyYears(o.sub("R10"))
	p.HealthVisiting = r.health(o.sub("R11"))
	p.SchoolNursing = r.health(o.sub("R12"))
	p.Midwifery = r.midwifery(o.sub("R13"))
	p.GP = r.gp(o.sub("R14"))
	p.Probation = r.probation(o.sub("R15"))
	p.MARAC = r.marac(o.sub("R16"))
	p.RepeatChild = r.repeatChild(o.sub("R17"))
	o.finish()
}

func (r *reader) mash(o *object) MASHRule {
	defer o.finish()
	return MASHRule{Rule: o.rule(), Due: o.deadline("due", timed...), DueDASHHigh: o.deadline("due_dash_high", timed...)}
}

func (r *reader) triage(o *object) TriageRule {
	defer o.finish()
	return TriageRule{Red: o.deadline("red", timed...), Amber: o.deadline("amber", timed...), Green: o.deadline("green", timed...)}
}

func (r *reader) school(o *object) SchoolRule {
	defer o.finish()
	s := SchoolRule{Rule: o.rule(), Profile: o.profile("profile", notice.ProfileB, notice.ProfileBMinimal),
		ProfileByLocalAuthority: map[string]notice.Profile{}}
	if v, ok := o.optional("profile_by_local_authority"); ok {
		byLA := r.newObject(v, o.field("profile_by_local_authority"))
		for _, code := range byLA.order {
			byLA.used[code] = true
			value := byLA.values[code]
			field := byLA.field(code)
			if value.Kind != yaml.ScalarNode {
				r.add(value.Line, field, "must be B or B_minimal")
				continue
			}
			s.ProfileByLocalAuthority[code] = byLA.checkProfile(value, field, []notice.Profile{notice.ProfileB, notice.ProfileBMinimal})
		}
	}
	s.AdultsForSafeCollection = o.boolean("adults_for_safe_collection")
	s.SendBy = o.timeOfDay("send_by")
	s.SendWithin = o.duration("send_within")
	s.Fallback = o.deadline("fallback", timed...)
	return s
}

func (r *reader) homeEducation(o *object) HomeEducationRule {
	defer o.finish()
	return HomeEducationRule{Rule: o.rule(), Ages: o.ages("ages"), Due: o.deadline("due", timed...)}
}

func (r *reader) earlyYears(o *object) EarlyYearsRule {
	defer o.finish()
	return EarlyYearsRule{Rule: o.rule(), Due: o.deadline("due", append(timed, calendar.SchoolDay)...)}
}

func (r *reader) health(o *object) HealthRule {
	defer o.finish()
	return HealthRule{Rule: o.rule(), Ages: o.ages("ages"), SendOn: o.sendOn("send_on"),
		Due: o.deadline("due", timed...), DueRed: o.deadline("due_red", timed...)}
}

func (r *reader) midwifery(o *object) MidwiferyRule {
	defer o.finish()
	return MidwiferyRule{Rule: o.rule(), Due: o.deadline("due", timed...), DueRed: o.deadline("due_red", timed...)}
}

func (r *reader) gp(o *object) GPRule {
	defer o.finish()
	return GPRule{Rule: o.rule(), MinRAG: o.rag("min_rag"), OnDASHHigh: o.boolean("on_dash_high"), Due: o.deadline("due", timed...)}
}

func (r *reader) probation(o *object) ProbationRule {
	defer o.finish()
	return ProbationRule{Rule: o.rule(), Due: o.deadline("due", timed...), DueUrgent: o.deadline("due_urgent", timed...)}
}

func (r *reader) marac(o *object) MARACRule {
	defer o.finish()
	return MARACRule{Rule: o.rule(), DASHYesCount: o.integer("dash_yes_count", 1, 27),
		SamePartiesIncidents: o.integer("same_parties_incidents", 1, 100),
		DueMARAC:             o.deadline("due_marac", timed...), DueIDVA: o.deadline("due_idva", timed...)}
}

func (r *reader) repeatChild(o *object) RepeatChildRule {
	defer o.finish()
	return RepeatChildRule{Rule: o.rule(), ChildIncidents: o.integer("child_incidents", 1, 100),
		CountPoliceFigure: o.boolean("count_police_figure")}
}

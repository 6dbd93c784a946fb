package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
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

// LoadChecked reads the policy file at path and checks it against the
// reference data too (CheckReference).
func LoadChecked(path string, ref *refdata.Set) (*Policy, error) {
	p, err := Load(path)
	if err != nil {
		return nil, err
	}
	return p, CheckReference(p, ref)
}

// CheckReference refuses a policy that declares a recipient kind of which
// the reference data holds no organisation: its rules could tell nobody.
func CheckReference(p *Policy, ref *refdata.Set) error {
	if ref == nil {
		return nil
	}
	have := map[events.RecipientKind]bool{}
	for _, s := range ref.Services() {
		have[s.Kind] = true
	}
	var problems []Problem
	for _, k := range p.Kinds {
		if !have[k.Kind] {
			problems = append(problems, Problem{File: p.File, Line: k.Line, Field: "recipient_kinds." + string(k.Kind),
				Message: "the reference data has no organisation of this kind: add its services to services.csv"})
		}
	}
	if len(problems) > 0 {
		return &LoadError{File: p.File, Problems: problems}
	}
	return nil
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
	r := &reader{file: file, lines: strings.Split(string(data), "\n")}
	p := r.policy(doc.Content[0])
	if len(r.problems) > 0 {
		return nil, &LoadError{File: file, Problems: r.problems}
	}
	sum := sha256.Sum256(data)
	p.Digest = "sha256:" + hex.EncodeToString(sum[:])
	p.File = file
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
	p.Kinds = r.kinds(top)
	conditions := r.conditionNodes(top)
	names := make([]string, 0, len(conditions))
	for _, c := range conditions {
		names = append(names, c.name)
	}
	c, err := newCompiler(names)
	if err != nil {
		r.add(root.Line, "", "the expression checker could not start: %v", err)
		return p
	}
	r.compiler = c
	for _, cn := range conditions {
		p.Conditions = append(p.Conditions, Condition{Name: cn.name, Expr: r.expression(cn.node, cn.field, scopeCondition)})
	}
	if v, ok := top.take("rules"); ok {
		r.rules(v, p)
	}
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

// UndeclaredKinds lists the kinds of services in the reference data that
// are neither the contract's nor declared by the policy: usually a
// misspelt kind, whose services no rule can reach.
func UndeclaredKinds(p *Policy, ref *refdata.Set) []events.RecipientKind {
	declared := map[events.RecipientKind]bool{}
	for _, k := range p.Kinds {
		declared[k.Kind] = true
	}
	var out []events.RecipientKind
	for _, s := range ref.Services() {
		if !events.IsBuiltinKind(s.Kind) && !declared[s.Kind] && !slices.Contains(out, s.Kind) {
			out = append(out, s.Kind)
		}
	}
	return out
}

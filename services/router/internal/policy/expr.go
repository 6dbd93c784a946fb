package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
)

// Expr is one compiled, type-checked expression of the policy file.
type Expr struct {
	// Source is the expression as written.
	Source  string
	program cel.Program
}

// scope says which facts an expression may read.
type scope int

const (
	// scopeCondition is a named condition: the incident's facts only.
	scopeCondition scope = iota
	// scopeIncident is a rule that fires when an incident is reported.
	scopeIncident
	// scopeTriage is a rule that fires on the MASH's triage decision.
	scopeTriage
	// scopeChildIncident and scopeChildTriage select one child.
	scopeChildIncident
	scopeChildTriage
)

// compiler builds the CEL environments of one policy file: the declared
// facts, and the conditions the file names.
type compiler struct {
	envs map[scope]*cel.Env
}

// factProvider declares the facts' object types to the CEL checker, with
// their fields' types, so that a misspelt field or a comparison of the
// wrong types is refused when the file is loaded. At run time the facts
// are maps, which CEL reads field by field.
type factProvider struct {
	*types.Registry
	objects map[string]map[string]*types.Type
}

func (p factProvider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.objects[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

func (p factProvider) FindStructFieldNames(name string) ([]string, bool) {
	fields, ok := p.objects[name]
	if !ok {
		return p.Registry.FindStructFieldNames(name)
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, true
}

func (p factProvider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	fields, ok := p.objects[name]
	if !ok {
		return p.Registry.FindStructFieldType(name, field)
	}
	t, ok := fields[field]
	if !ok {
		return nil, false
	}
	return &types.FieldType{Type: t,
		IsSet:   func(obj any) bool { m, ok := obj.(map[string]any); _, set := m[field]; return ok && set },
		GetFrom: func(obj any) (any, error) { return fieldOf(obj, field) },
	}, true
}

func fieldOf(obj any, field string) (any, error) {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("facts of type %T have no field %s", obj, field)
	}
	v, ok := m[field]
	if !ok {
		return nil, fmt.Errorf("no fact %s", field)
	}
	return v, nil
}

// newCompiler declares the facts and the named conditions.
func newCompiler(conditions []string) (*compiler, error) {
	objects := map[string]map[string]*types.Type{}
	for k, v := range objectFields {
		objects[k] = v
	}
	condFields := map[string]*types.Type{}
	for _, name := range conditions {
		condFields[name] = types.BoolType
	}
	objects[typeConditions] = condFields
	reg, err := types.NewRegistry()
	if err != nil {
		return nil, err
	}
	provider := factProvider{Registry: reg, objects: objects}
	c := &compiler{envs: map[scope]*cel.Env{}}
	for _, s := range []scope{scopeCondition, scopeIncident, scopeTriage, scopeChildIncident, scopeChildTriage} {
		opts := []cel.EnvOption{cel.CustomTypeProvider(provider), cel.OptionalTypes()}
		for _, d := range declsFor(s) {
			opts = append(opts, cel.Variable(d.name, d.typ))
		}
		env, err := cel.NewEnv(opts...)
		if err != nil {
			return nil, err
		}
		c.envs[s] = env
	}
	return c, nil
}

func declsFor(s scope) []factDecl {
	decls := slices.Clone(incidentFacts)
	if s != scopeCondition {
		decls = append(decls, factDecl{"conditions", types.NewObjectType(typeConditions), "the policy's named conditions"})
	}
	if s == scopeTriage || s == scopeChildTriage {
		decls = append(decls, triageFacts...)
	}
	if s == scopeChildIncident || s == scopeChildTriage {
		decls = append(decls, childFact)
	}
	return decls
}

// exprError is a problem at a column of an expression (1-based).
type exprError struct {
	line, column int
	message      string
}

// compileBool checks that source is a boolean expression over the facts of
// scope s that cannot fail when it is evaluated.
func (c *compiler) compileBool(source string, s scope) (*Expr, []exprError) {
	checked, iss := c.envs[s].Compile(source)
	if iss != nil && iss.Err() != nil {
		var errs []exprError
		for _, e := range iss.Errors() {
			errs = append(errs, exprError{line: e.Location.Line(), column: e.Location.Column() + 1, message: e.Message})
		}
		return nil, errs
	}
	if !checked.OutputType().IsExactType(types.BoolType) {
		return nil, []exprError{{line: 1, column: 1, message: fmt.Sprintf("is of type %s; a condition must be true or false", checked.OutputType())}}
	}
	if errs := checkCannotFail(checked); len(errs) > 0 {
		return nil, errs
	}
	prg, err := c.envs[s].Program(checked, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, []exprError{{line: 1, column: 1, message: err.Error()}}
	}
	return &Expr{Source: source, program: prg}, nil
}

// allowedFunctions are the operators and functions an expression may
// call: none of them can fail on facts of the declared types. Left out are
// indexing (a list may be shorter), division and remainder (by zero),
// multiplication (overflow), optional value() (an absent value),
// conversions and regular expressions (text that does not parse).
var allowedFunctions = []string{
	operators.LogicalAnd, operators.LogicalOr, operators.LogicalNot, operators.NotStrictlyFalse,
	operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater,
	operators.GreaterEquals, operators.Add, operators.Subtract, operators.Negate, operators.Conditional,
	operators.In, overloads.Size, overloads.StartsWith, overloads.EndsWith, overloads.Contains,
	"orValue", "hasValue",
}

// checkCannotFail refuses any call outside allowedFunctions, naming where.
func checkCannotFail(checked *cel.Ast) []exprError {
	native := checked.NativeRep()
	info := native.SourceInfo()
	var errs []exprError
	ast.PostOrderVisit(native.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.CallKind {
			return
		}
		name := e.AsCall().FunctionName()
		if slices.Contains(allowedFunctions, name) {
			return
		}
		loc := info.GetStartLocation(e.ID())
		errs = append(errs, exprError{line: max(loc.Line(), 1), column: loc.Column() + 1,
			message: fmt.Sprintf("%s could fail when evaluated; %s", describeFunction(name), failSafeHint(name))})
	}))
	return errs
}

func describeFunction(name string) string {
	switch name {
	case operators.Index, operators.OptIndex:
		return "indexing"
	case operators.Divide:
		return "division"
	case operators.Modulo:
		return "remainder"
	case operators.Multiply:
		return "multiplication"
	}
	return strings.TrimPrefix(name, "@") + "()"
}

func failSafeHint(name string) string {
	switch name {
	case "value":
		return "use orValue(default), or hasValue() alone"
	case operators.Index, operators.OptIndex:
		return "use exists() or all() over the list"
	}
	return "write the condition without it"
}

// eval evaluates a boolean expression. The checker made sure it cannot
// fail, so an error here means facts that do not match their declaration.
func (x *Expr) eval(vars any) (bool, error) {
	out, _, err := x.program.Eval(vars)
	if err != nil {
		return false, fmt.Errorf("evaluating %q: %w", x.Source, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("evaluating %q gave %v, not true or false", x.Source, out)
	}
	return b, nil
}

// Scope is the facts of one event, ready for a policy's expressions.
type Scope struct {
	base interpreter.Activation
}

// NewScope evaluates the policy's named conditions over the facts and
// returns the scope the rules' expressions read. rag is the rating the
// rules work with.
func (p *Policy) NewScope(f *Facts, rag string) (*Scope, error) {
	vars := f.activation(rag, nil)
	conditions := map[string]bool{}
	for _, c := range p.Conditions {
		ok, err := c.Expr.eval(vars)
		if err != nil {
			return nil, fmt.Errorf("condition %s: %w", c.Name, err)
		}
		conditions[c.Name] = ok
	}
	vars["conditions"] = conditionsValue(conditions)
	act, err := interpreter.NewActivation(vars)
	if err != nil {
		return nil, err
	}
	return &Scope{base: act}, nil
}

// Holds evaluates a condition; a nil one holds.
func (s *Scope) Holds(x *Expr) (bool, error) {
	if x == nil {
		return true, nil
	}
	return x.eval(s.base)
}

// HoldsFor evaluates a child selector for one child; a nil one holds.
func (s *Scope) HoldsFor(x *Expr, c ChildFacts) (bool, error) {
	if x == nil {
		return true, nil
	}
	child, err := interpreter.NewActivation(map[string]any{"child": c.value()})
	if err != nil {
		return false, err
	}
	return x.eval(interpreter.NewHierarchicalActivation(s.base, child))
}

// Deadline returns the first option whose condition holds. The loader
// made sure the last option has none.
func (s *Scope) Deadline(options []DueOption) (DueOption, error) {
	for _, o := range options {
		ok, err := s.Holds(o.When)
		if err != nil || ok {
			return o, err
		}
	}
	return DueOption{}, errors.New("no deadline applies")
}

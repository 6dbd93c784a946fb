package policy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
)

const shippedFile = "../../../../policy/default.yaml"

func shippedText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(shippedFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestShippedPolicyReadsAsTheWholeRuleSet(t *testing.T) {
	p, err := policy.Load(shippedFile)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var ids []string
	for _, r := range p.Rules {
		ids = append(ids, r.ID+"/"+string(r.On)+"/"+string(r.Kind))
	}
	want := []string{"R1/incident/mash", "R8/incident/school", "R9/incident/home_education", "R10/incident/early_years",
		"R11/triage/health_visiting", "R12/triage/school_nursing", "R13/incident/midwifery", "R14/incident/gp",
		"R14/triage/gp", "R15/incident/probation", "R16/incident/marac", "R16/incident/idva"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if p.Triage.ID != "R2" || len(p.Triage.Due) != 3 || p.Repeat.ID != "R17" || !p.Repeat.Enabled {
		t.Errorf("R2 %+v, R17 %+v", p.Triage, p.Repeat)
	}
	r1 := p.Rules[0]
	gotR1 := []policy.Deadline{r1.Due[0].Deadline, r1.Due[1].Deadline}
	wantR1 := []policy.Deadline{{Calendar: calendar.Clock, Limit: time.Hour}, {Calendar: calendar.Clock, Limit: 24 * time.Hour}}
	if diff := cmp.Diff(wantR1, gotR1); diff != "" || r1.Due[0].When.Source != "dash.level == 'high'" || !r1.FrontDoor {
		t.Errorf("R1 deadlines (-want +got):\n%s; front door %v", diff, r1.FrontDoor)
	}
	if r8 := p.Rules[1]; r8.SendBy == nil || r8.SendBy.At != (calendar.TimeOfDay{Hour: 6}) || r8.Profile != events.ProfileB ||
		r8.Due[0].Deadline.Calendar != calendar.SchoolDay || r8.Due[0].Fallback == nil {
		t.Errorf("R8 = %+v", r8)
	}
	if p.DefaultRAG.ByDASH["high"] != policy.Red || p.RepeatWindowMonths != 12 || !strings.HasPrefix(p.Digest, "sha256:") {
		t.Errorf("settings: %+v, window %d, digest %s", p.DefaultRAG, p.RepeatWindowMonths, p.Digest)
	}
	for _, r := range p.Rules {
		if r.LawfulBasis != p.LawfulBasis {
			t.Errorf("%s has lawful basis %q", r.ID, r.LawfulBasis)
		}
	}
}

// lineOf returns the line of text, counted from 1, that holds marker.
func lineOf(t *testing.T, text, marker string) int {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("no %q in the text", marker)
	}
	return strings.Count(text[:i], "\n") + 1
}

// edited is the shipped text with old replaced by new.
func edited(t *testing.T, old, new string) string {
	t.Helper()
	text := shippedText(t)
	if !strings.Contains(text, old) {
		t.Fatalf("the shipped policy has no %q", old)
	}
	return strings.Replace(text, old, new, 1)
}

func loadError(t *testing.T, text string) (string, *policy.LoadError) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "edited.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := policy.Load(file)
	var loadErr *policy.LoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("Load error = %v, want a *LoadError", err)
	}
	if !strings.Contains(err.Error(), file+":") {
		t.Errorf("error %q does not name the file", err)
	}
	return file, loadErr
}

func TestBadPolicyIsRefusedNamingFileLineAndField(t *testing.T) {
	for _, c := range []struct {
		name     string
		old, new string
		// marker finds the line the problem must name in the edited text.
		marker  string
		field   string
		message string
	}{
		{"a duration that is not one", "{calendar: clock, limit: 24h}", "{calendar: clock, limit: 24x}", "limit: 24x",
			"rules.R1.due[1].limit", "is not a duration"},
		{"an unknown calendar", "{when: \"default_rag == 'red'\", calendar: clock", "{when: \"default_rag == 'red'\", calendar: lunar", "calendar: lunar",
			"rules.R2.due[0].calendar", `"lunar" is not one of`},
		{"a misspelt setting", "    high: red", "    hihg: red", "hihg", "default_rag.dash.hihg", "is not a known setting"},
		{"a rating that is not one", "    medium: amber", "    medium: orange", "orange", "default_rag.dash.medium", `"orange" is not red, amber or green`},
		{"a number out of range", "repeat_window_months: 12", "repeat_window_months: 0", "repeat_window_months", "repeat_window_months", "outside 1 to 60"},
		{"a profile the education notice is not sent as", "    profile: B                                     # [G]", "    profile: C                                     # [G]",
			"- id: R8", "rules.R8.profile", "the education notice is sent as"},
		{"a bad send-by time", `send_by: {at: "06:00"`, `send_by: {at: "6am"`, "6am", "rules.R8.send_by.at", "is not a time"},
		{"a recipient kind nobody declared", "{kind: probation, find: local_authority}", "{kind: youth_offending, find: local_authority}",
			"youth_offending", "rules.R15.recipient.kind", "declare it under recipient_kinds"},
		{"a deadline list that may not apply", "      - {calendar: working_day, days: 1}           # [P]\n\n  - id: R10",
			"      - {when: \"rag == 'red'\", calendar: working_day, days: 1}\n\n  - id: R10",
			"{when: \"rag == 'red'\", calendar: working_day, days: 1}", "rules.R9.due", "the last deadline must have no when"},
		{"an unknown finder", "{kind: idva, find: local_authority}", "{kind: idva, find: postcode}", "postcode", "rules.R16.recipient.find", "is not local_authority"},
		{"broken YAML", "repeat_window_months: 12", "repeat_window_months: 12: 3", "repeat_window_months", "", "mapping values are not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := edited(t, c.old, c.new)
			file, loadErr := loadError(t, text)
			p := problemOf(loadErr, c.field)
			if p.File != file || p.Line != lineOf(t, text, c.marker) || p.Field != c.field || !strings.Contains(p.Message, c.message) {
				t.Errorf("problem %+v, want line %d field %s message with %q; all: %v", p, lineOf(t, text, c.marker), c.field, c.message, loadErr)
			}
		})
	}
}

// TestExpressionsAreCheckedWhenLoaded: an expression that does not
// type-check against the declared facts, reads a fact that is not
// declared (or not known when the rule fires), could fail when evaluated,
// or is not a condition is refused, at its line and its column in the
// file, with its column in the expression.
func TestExpressionsAreCheckedWhenLoaded(t *testing.T) {
	const r13 = `when: "adults.exists(a, a.pregnant)"`
	for _, c := range []struct {
		name string
		expr string
		// at is where in expr the problem is, 1-based.
		at      int
		message string
	}{
		{"a type error", "dash.level > 3", 12, "no matching overload"},
		{"an unknown fact", "dash.ticks >= 14", 5, "undefined field 'ticks'"},
		{"an unknown variable", "risk_level == 'high'", 1, "undeclared reference to 'risk_level'"},
		{"a fact only known on triage", "decision == 'section_47'", 1, "undeclared reference to 'decision'"},
		{"a missing optional field used as if present", "dash.yes_count >= 14", 16, "no matching overload"},
		{"an optional value that may be absent", "dash.yes_count.value() >= 14", 21, "value() could fail"},
		{"an index that may be out of range", "children[0].age < 5", 9, "indexing could fail"},
		{"a division by a fact", "same_parties_incidents / size(children) > 1", 24, "division could fail"},
		{"not a condition", "size(adults)", 1, "a condition must be true or false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := edited(t, r13, `when: "`+c.expr+`"`)
			file, loadErr := loadError(t, text)
			p := problemOf(loadErr, "rules.R13.when")
			line := lineOf(t, text, c.expr)
			lineText := strings.Split(text, "\n")[line-1]
			column := strings.Index(lineText, c.expr) + c.at
			want := policy.Problem{File: file, Line: line, Column: column, Field: "rules.R13.when", Message: p.Message}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("problem (-want +got):\n%s\nall: %v", diff, loadErr)
			}
			if !strings.Contains(p.Message, c.message) || !strings.Contains(p.Message, fmt.Sprintf("expression column %d", c.at)) {
				t.Errorf("message %q lacks %q or the expression's column %d", p.Message, c.message, c.at)
			}
			if !strings.Contains(loadErr.Error(), fmt.Sprintf("%s:%d:%d: rules.R13.when", file, line, column)) {
				t.Errorf("error does not read file:line:column: field:\n%v", loadErr)
			}
		})
	}
	t.Run("a child selector reads child, a rule's condition does not", func(t *testing.T) {
		text := edited(t, r13, `when: "child.age < 5"`)
		_, loadErr := loadError(t, text)
		if p := problemOf(loadErr, "rules.R13.when"); !strings.Contains(p.Message, "undeclared reference to 'child'") {
			t.Errorf("problem %+v", p)
		}
	})
	t.Run("a multi-line expression names the line it goes wrong on", func(t *testing.T) {
		text := edited(t, "same_parties_incidents >= 3 || previous_marac_within_12m", "same_parties_incidents >= 3 || previous_marac")
		_, loadErr := loadError(t, text)
		p := problemOf(loadErr, "conditions.marac_criteria")
		if want := lineOf(t, text, "previous_marac\n"); p.Line != want || p.Column != 36 {
			t.Errorf("problem %+v, want line %d column 36", p, want)
		}
	})
}

func TestDeclaredKindNeedsOrganisations(t *testing.T) {
	ref, err := refdata.Load("../../../../reference")
	if err != nil {
		t.Fatal(err)
	}
	text := edited(t, "conditions:\n", "recipient_kinds:\n  youth_offending: {label: \"Youth offending team\"}\n\nconditions:\n")
	text = strings.Replace(text, "{kind: probation, find: local_authority}", "{kind: youth_offending, find: local_authority}", 1)
	p, err := policy.Parse("kinds.yaml", []byte(text))
	if err != nil {
		t.Fatalf("a declared kind is refused: %v", err)
	}
	err = policy.CheckReference(p, ref)
	var loadErr *policy.LoadError
	if !errors.As(err, &loadErr) || len(loadErr.Problems) != 1 {
		t.Fatalf("CheckReference = %v, want one problem", err)
	}
	want := policy.Problem{File: "kinds.yaml", Line: lineOf(t, text, "youth_offending: {"), Field: "recipient_kinds.youth_offending",
		Message: loadErr.Problems[0].Message}
	if diff := cmp.Diff(want, loadErr.Problems[0]); diff != "" || !strings.Contains(want.Message, "services.csv") {
		t.Errorf("problem (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"school", "Youth", "youth-offending", "youth__offending"} {
		text := edited(t, "conditions:\n", "recipient_kinds:\n  "+bad+": {label: \"A team\"}\n\nconditions:\n")
		if _, err := policy.Parse("kinds.yaml", []byte(text)); err == nil {
			t.Errorf("kind %q was accepted", bad)
		}
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	text := strings.NewReplacer("limit: 24h}", "limit: soon}", "    medium: amber", "    medium: blue",
		`when: "dash.level == 'high'"`, `when: "dash.levl == 'high'"`).Replace(shippedText(t))
	_, err := policy.Parse("two.yaml", []byte(text))
	var loadErr *policy.LoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("Parse error = %v, want a *LoadError", err)
	}
	var fields []string
	for _, p := range loadErr.Problems {
		fields = append(fields, p.Field)
	}
	want := []string{"default_rag.dash.medium", "rules.R1.due[0].when", "rules.R1.due[1].limit", "rules.R2.due[1].limit", "rules.R14.when"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("problem fields (-want +got):\n%s", diff)
	}
}

// watched writes the shipped policy to a temporary file and watches it,
// logging to an observer.
func watched(t *testing.T) (*policy.Watcher, string, *observer.ObservedLogs) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(shippedText(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	w, err := policy.NewWatcher(file, zap.New(core), nil)
	if err != nil {
		t.Fatalf("NewWatcher: %v", err)
	}
	return w, file, logs
}

func TestRunningRouterKeepsLastGoodPolicyAndSaysSo(t *testing.T) {
	w, file, logs := watched(t)
	good := w.Current()
	bad := strings.Replace(shippedText(t), "version: default-2026.1", "version: local-2", 1)
	bad = strings.Replace(bad, "dash.yes_count.orValue(0) >= 14", "dash.yes_count >= 14", 1)
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}

	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { w.WatchTicks(ctx, ticks); close(done) }()
	ticks <- time.Time{}
	ticks <- time.Time{} // the same bad content is refused again, but logged once
	cancel()
	<-done

	if w.Current() != good {
		t.Error("the bad policy replaced the good one")
	}
	var loadErr *policy.LoadError
	if err := w.LastError(); !errors.As(err, &loadErr) {
		t.Errorf("LastError = %v, want a *LoadError", err)
	}
	refusals := logs.FilterMessage("routing policy refused; keeping the version in use").All()
	if len(refusals) != 1 {
		t.Fatalf("refusals logged = %d, want 1", len(refusals))
	}
	fields := refusals[0].ContextMap()
	if fields["policy_version"] != "default-2026.1" {
		t.Errorf("log fields %v do not name the version kept", fields)
	}
	line := lineOf(t, bad, "dash.yes_count >= 14")
	if diff := cmp.Diff([]any{fmt.Sprintf("%s:%d:%d conditions.marac_criteria", file, line, 20)}, fields["locations"]); diff != "" {
		t.Errorf("logged locations (-want +got):\n%s", diff)
	}
}

func TestWatcherLoadsAGoodChangeAndRefusesAnUnchangedVersion(t *testing.T) {
	w, file, _ := watched(t)
	sameVersion := strings.Replace(shippedText(t), "dash.yes_count.orValue(0) >= 14", "dash.yes_count.orValue(0) >= 12", 1)
	if err := os.WriteFile(file, []byte(sameVersion), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, err := w.CheckNow(); changed || !errors.Is(err, policy.ErrVersionUnchanged) {
		t.Fatalf("CheckNow = %v, %v; want a refusal for the unchanged version", changed, err)
	}
	newVersion := strings.Replace(sameVersion, "version: default-2026.1", "version: local-2027.1", 1)
	if err := os.WriteFile(file, []byte(newVersion), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, err := w.CheckNow(); !changed || err != nil {
		t.Fatalf("CheckNow = %v, %v; want the new policy loaded", changed, err)
	}
	if got := w.Current(); got.Version != "local-2027.1" || !strings.Contains(got.Conditions[0].Expr.Source, ">= 12") {
		t.Errorf("policy in use: version %s, MARAC criteria %s", got.Version, got.Conditions[0].Expr.Source)
	}
	if err := w.LastError(); err != nil {
		t.Errorf("LastError = %v after a good load", err)
	}
}

// problemOf returns the problem about field, or the first problem.
func problemOf(e *policy.LoadError, field string) policy.Problem {
	for _, p := range e.Problems {
		if p.Field == field {
			return p
		}
	}
	return e.Problems[0]
}

func TestUndeclaredKindsOfTheReferenceData(t *testing.T) {
	ref, err := refdata.Load("../../../../reference")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(shippedFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := policy.UndeclaredKinds(p, ref); !slices.Equal(got, []events.RecipientKind{"domestic_abuse_service"}) {
		t.Errorf("undeclared kinds under the default policy = %v", got)
	}
	sample, err := policy.Load("../../../../policy/samples/medium-risk-da-service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := policy.UndeclaredKinds(sample, ref); len(got) != 0 {
		t.Errorf("undeclared kinds under the sample policy = %v", got)
	}
}

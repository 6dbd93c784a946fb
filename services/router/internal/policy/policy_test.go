package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/services/router/internal/notice"
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

func TestShippedPolicyLoadsWithTheDefaultsOfTheDomainBrief(t *testing.T) {
	p, err := policy.Load(shippedFile)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := map[string]any{
		"version":              p.Version,
		"repeat window":        p.RepeatWindowMonths,
		"R1 due":               p.MASH.Due,
		"R1 due DASH high":     p.MASH.DueDASHHigh,
		"R2 red":               p.Triage.Red,
		"R2 amber":             p.Triage.Amber,
		"R2a high":             p.DefaultRAG.ByDASH["high"],
		"R2a floor":            p.DefaultRAG.YoungChildFloor,
		"R8 profile":           p.School.Profile,
		"R8 send by":           p.School.SendBy,
		"R10 due":              p.EarlyYears.Due,
		"R11 ages":             p.HealthVisiting.Ages,
		"R11 send on":          p.HealthVisiting.SendOn,
		"R11 red":              p.HealthVisiting.DueRed,
		"R12 due":              p.SchoolNursing.Due,
		"R13 red":              p.Midwifery.DueRed,
		"R14 min":              p.GP.MinRAG,
		"R16 ticks":            p.MARAC.DASHYesCount,
		"R16 repeat":           p.MARAC.SamePartiesIncidents,
		"R17 child incidents":  p.RepeatChild.ChildIncidents,
		"digest has algorithm": strings.HasPrefix(p.Digest, "sha256:"),
	}
	want := map[string]any{
		"version":              "default-2026.1",
		"repeat window":        12,
		"R1 due":               policy.Deadline{Calendar: calendar.Clock, Limit: 24 * time.Hour},
		"R1 due DASH high":     policy.Deadline{Calendar: calendar.Clock, Limit: time.Hour},
		"R2 red":               policy.Deadline{Calendar: calendar.Clock, Limit: 4 * time.Hour},
		"R2 amber":             policy.Deadline{Calendar: calendar.MASHHours, Limit: 24 * time.Hour},
		"R2a high":             policy.Red,
		"R2a floor":            policy.Amber,
		"R8 profile":           notice.ProfileB,
		"R8 send by":           calendar.TimeOfDay{Hour: 6},
		"R10 due":              policy.Deadline{Calendar: calendar.WorkingDay, Days: 1},
		"R11 ages":             policy.AgeRange{MinYears: 0, MaxYears: 4},
		"R11 send on":          policy.OnTriage,
		"R11 red":              policy.Deadline{Calendar: calendar.WorkingDay, Days: 0},
		"R12 due":              policy.Deadline{Calendar: calendar.WorkingDay, Days: 2},
		"R13 red":              policy.Deadline{Calendar: calendar.Clock, Limit: 4 * time.Hour},
		"R14 min":              policy.Amber,
		"R16 ticks":            14,
		"R16 repeat":           3,
		"R17 child incidents":  3,
		"digest has algorithm": true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shipped policy (-want +got):\n%s", diff)
	}
}

func TestBadPolicyIsRefusedNamingFileLineAndField(t *testing.T) {
	for _, c := range []struct {
		name    string
		old     string
		new     string
		want    policy.Problem
		message string
	}{
		{"a duration that is not one", "due: {calendar: clock, limit: 24h}", "due: {calendar: clock, limit: 24x}",
			policy.Problem{Line: 41, Field: "rules.R1.due.limit"}, "is not a duration"},
		{"an unknown calendar", "red: {calendar: clock, limit: 4h}", "red: {calendar: lunar, limit: 4h}",
			policy.Problem{Line: 45, Field: "rules.R2.red.calendar"}, `"lunar" is not one of`},
		{"a misspelt setting", "    high: red", "    hihg: red",
			policy.Problem{Line: 29, Field: "default_rag.dash.hihg"}, "is not a known setting"},
		{"a missing setting", "    high: red\n", "",
			policy.Problem{Line: 29, Field: "default_rag.dash.high"}, "is required"},
		{"a rating that is not one", "    medium: amber", "    medium: orange",
			policy.Problem{Line: 30, Field: "default_rag.dash.medium"}, `"orange" is not red, amber or green`},
		{"a number out of range", "repeat_window_months: 12", "repeat_window_months: 0",
			policy.Problem{Line: 24, Field: "repeat_window_months"}, "outside 1 to 60"},
		{"a profile a school may not get", "profile: B ", "profile: A ",
			policy.Problem{Line: 52, Field: "rules.R8.profile"}, `"A" is not one of`},
		{"a switch that is not true or false", "    enabled: true\n    purpose: \"Operation", "    enabled: yes please\n    purpose: \"Operation",
			policy.Problem{Line: 50, Field: "rules.R8.enabled"}, "is not true or false"},
		{"a bad send-by time", `send_by: "06:00"`, `send_by: "6am"`,
			policy.Problem{Line: 55, Field: "rules.R8.send_by"}, "is not a time"},
		{"broken YAML", "repeat_window_months: 12", "repeat_window_months: 12: 3",
			policy.Problem{Line: 24}, "mapping values are not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := shippedText(t)
			if !strings.Contains(text, c.old) {
				t.Fatalf("the shipped policy has no %q", c.old)
			}
			file := filepath.Join(t.TempDir(), "edited.yaml")
			if err := os.WriteFile(file, []byte(strings.Replace(text, c.old, c.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := policy.Load(file)
			var loadErr *policy.LoadError
			if !errors.As(err, &loadErr) {
				t.Fatalf("Load error = %v, want a *LoadError", err)
			}
			p := problemOf(loadErr, c.want.Field)
			want := c.want
			want.File, want.Message = file, p.Message
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("first problem (-want +got):\n%s\nall: %v", diff, err)
			}
			if !strings.Contains(p.Message, c.message) {
				t.Errorf("message %q lacks %q", p.Message, c.message)
			}
			if !strings.Contains(err.Error(), file+":") {
				t.Errorf("error %q does not name the file", err)
			}
		})
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

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	text := strings.NewReplacer("limit: 24h}", "limit: soon}", "    medium: amber", "    medium: blue").Replace(shippedText(t))
	_, err := policy.Parse("two.yaml", []byte(text))
	var loadErr *policy.LoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("Parse error = %v, want a *LoadError", err)
	}
	var fields []string
	for _, p := range loadErr.Problems {
		fields = append(fields, p.Field)
	}
	want := []string{"default_rag.dash.medium", "rules.R1.due.limit", "rules.R2.amber.limit"}
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
	w, err := policy.NewWatcher(file, zap.New(core))
	if err != nil {
		t.Fatalf("NewWatcher: %v", err)
	}
	return w, file, logs
}

func TestRunningRouterKeepsLastGoodPolicyAndSaysSo(t *testing.T) {
	w, file, logs := watched(t)
	good := w.Current()
	bad := strings.Replace(shippedText(t), "version: default-2026.1", "version: local-2", 1)
	bad = strings.Replace(bad, "dash_yes_count: 14", "dash_yes_count: many", 1)
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
	refusals := logs.FilterMessage("routing policy refused; keeping the policy in use").All()
	if len(refusals) != 1 {
		t.Fatalf("refusals logged = %d, want 1", len(refusals))
	}
	fields := refusals[0].ContextMap()
	if fields["policy_version_in_use"] != "default-2026.1" {
		t.Errorf("log fields %v do not name the version kept", fields)
	}
	if diff := cmp.Diff([]any{file + ":108 rules.R16.dash_yes_count"}, fields["locations"]); diff != "" {
		t.Errorf("logged locations (-want +got):\n%s", diff)
	}
}

func TestWatcherLoadsAGoodChangeAndRefusesAnUnchangedVersion(t *testing.T) {
	w, file, _ := watched(t)
	sameVersion := strings.Replace(shippedText(t), "dash_yes_count: 14", "dash_yes_count: 12", 1)
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
	if got := w.Current(); got.Version != "local-2027.1" || got.MARAC.DASHYesCount != 12 {
		t.Errorf("policy in use: version %s, R16 ticks %d", got.Version, got.MARAC.DASHYesCount)
	}
	if err := w.LastError(); err != nil {
		t.Errorf("LastError = %v after a good load", err)
	}
}

package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-envconfig"

	"github.com/lantern-safeguarding/lantern/services/escalation/internal/config"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

// load reads a config from env alone, as the service would at start.
func load(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	var cfg config.Config
	if err := envconfig.ProcessWith(t.Context(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(env)}); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func TestDefaultsAreTheDocumentedRules(t *testing.T) {
	cfg := load(t, map[string]string{"DATABASE_URL": "postgres://localhost/lantern", "LANTERN_REFERENCE_DIR": "../../../../reference",
		"LANTERN_EVENT_ID_KEY": "escalation-test-event-id-key"})
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the defaults are invalid: %v", err)
	}
	if diff := cmp.Diff(sla.DefaultRules(), cfg.Rules()); diff != "" {
		t.Errorf("rules from the default settings (-want +got):\n%s", diff)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := load(t, map[string]string{
		"LANTERN_REFERENCE_DIR":     "/nonexistent/reference",
		"LANTERN_SLA_LEAD":          "-1m",
		"LANTERN_SLA_LEAD_FRACTION": "1.5",
		"LANTERN_SLA_TICK":          "1ms",
		"LANTERN_SLA_ACK_KINDS":     "school,Police",
		"LANTERN_ACK_WAIT":          "10ms",
	})
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a broken configuration")
	}
	for _, name := range []string{"DATABASE_URL", "LANTERN_REFERENCE_DIR", "LANTERN_SLA_LEAD ", "LANTERN_SLA_LEAD_FRACTION",
		"LANTERN_SLA_TICK", "LANTERN_SLA_ACK_KINDS", "LANTERN_ACK_WAIT", "LANTERN_EVENT_ID_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Validate's report does not mention %s:\n%v", strings.TrimSpace(name), err)
		}
	}
}

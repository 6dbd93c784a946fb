package config_test

import (
	"strings"
	"testing"
	"time"

	pkgconfig "github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/services/router/internal/config"
)

func TestValidateNamesEveryBadSetting(t *testing.T) {
	cfg := config.Config{
		Common:    pkgconfig.CommonFor("postgres://localhost/lantern", "nats://127.0.0.1:4222"),
		Reference: pkgconfig.Reference{Dir: t.TempDir(), Poll: time.Second}, AdminAddr: "127.0.0.1:0",
		PolicyFile: "no/such/policy.yaml", PolicyPoll: time.Millisecond, Consumer: pkgconfig.Consumer{AckWait: 30 * time.Second},
		MatchKey: "short", EventIDs: pkgconfig.EventIDs{Key: "short"},
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a missing policy file, a 1ms poll and a short match key")
	}
	for _, name := range []string{"LANTERN_POLICY_FILE", "LANTERN_POLICY_POLL", "LANTERN_MATCH_KEY", "LANTERN_EVENT_ID_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestValidateAcceptsTheShippedPolicy(t *testing.T) {
	cfg := config.Config{
		Common:    pkgconfig.CommonFor("postgres://localhost/lantern", "nats://127.0.0.1:4222"),
		Reference: pkgconfig.Reference{Dir: "../../../../reference", Poll: 5 * time.Second}, AdminAddr: "127.0.0.1:0",
		PolicyFile: "../../../../policy/default.yaml", PolicyPoll: 5 * time.Second, Consumer: pkgconfig.Consumer{AckWait: 30 * time.Second},
		MatchKey: "a-secret-of-sixteen-or-more", EventIDs: pkgconfig.EventIDs{Key: "another-secret-of-sixteen"},
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	cfg.MatchKey = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "LANTERN_MATCH_KEY") {
		t.Errorf("Validate without a match key: %v", err)
	}
}

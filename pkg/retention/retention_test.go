package retention_test

import (
	"os"
	"strings"
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/retention"
)

func TestShippedPolicyIsTheDomainDefault(t *testing.T) {
	t.Parallel()
	p, err := retention.Load("../../policy/retention.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Default != retention.Default().Default {
		t.Errorf("shipped default periods %+v, want domain 8.5's %+v", p.Default, retention.Default().Default)
	}
	if got := p.StreamMaxAge(); got != 30*retention.Day {
		t.Errorf("StreamMaxAge = %v, want 30 days", got)
	}
}

func TestPartnershipOverridesInheritTheRest(t *testing.T) {
	t.Parallel()
	p, err := retention.Parse([]byte(`
version: test-1
default:
  message_bodies_after_acknowledgement: 30d
  unacknowledged_after_report: 365d
  audit_metadata: 730d
partnerships:
  E06000035:
    message_bodies_after_acknowledgement: 60d
`))
	if err != nil {
		t.Fatal(err)
	}
	medway := p.For("E06000035")
	if medway.MessageBodies != 60*retention.Day || medway.AuditMetadata != 730*retention.Day {
		t.Errorf("Medway periods %+v", medway)
	}
	if p.For("E09000001").MessageBodies != 30*retention.Day {
		t.Errorf("another LA's periods %+v, want the default", p.For("E09000001"))
	}
	if p.StreamMaxAge() != 60*retention.Day {
		t.Errorf("StreamMaxAge = %v, want the longest partnership's 60 days", p.StreamMaxAge())
	}
}

func TestBadPoliciesAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, want string }{
		{"no version", "default: {message_bodies_after_acknowledgement: 30d, unacknowledged_after_report: 1d, audit_metadata: 730d}", "version"},
		{"short audit", "version: x\ndefault: {message_bodies_after_acknowledgement: 30d, unacknowledged_after_report: 1d, audit_metadata: 365d}", "default.audit_metadata"},
		{"bad period", "version: x\ndefault: {message_bodies_after_acknowledgement: soon, unacknowledged_after_report: 1d, audit_metadata: 730d}", "default.message_bodies_after_acknowledgement"},
		{"missing", "version: x\ndefault: {unacknowledged_after_report: 1d, audit_metadata: 730d}", "message_bodies_after_acknowledgement: required"},
		{"unknown field", "version: x\nkeep_for_ever: true", "keep_for_ever"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := retention.Parse([]byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: err %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestFromEnvDefaultsWithoutAFile(t *testing.T) {
	if os.Getenv(retention.EnvFile) != "" {
		t.Fatalf("%s is set in the test environment", retention.EnvFile)
	}
	p, err := retention.FromEnv()
	if err != nil || p.StreamMaxAge() != 30*retention.Day {
		t.Errorf("FromEnv = %+v, %v", p, err)
	}
}

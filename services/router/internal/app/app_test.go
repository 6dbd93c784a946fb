package app_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/services/router/internal/app"
	"github.com/lantern-safeguarding/lantern/services/router/internal/config"
)

func TestConsumerTakesIncidentsAndTriageDecisions(t *testing.T) {
	spec := app.ConsumerSpec(&config.Config{})
	if diff := cmp.Diff([]string{"sg.incident.reported", "sg.triage.decided"}, spec.Subjects); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
	if spec.Durable != "router" {
		t.Errorf("durable = %q, want router", spec.Durable)
	}
}

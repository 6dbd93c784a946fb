package sla_test

import (
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/sla"
)

func TestEscalationConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		b := setup(t, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC))
		return conformance.Consumer{Handler: b.esc.Handle, Subjects: sla.Subjects(),
			Digest: conformance.SchemaDigest(b.pool, sla.Schema)}
	}, conformance.Simulated(t, 6, 12))
}

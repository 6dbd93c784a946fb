package inbox_test

import (
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

func TestDeliveryConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		d, pool := setup(t)
		return conformance.Consumer{Handler: d.Handle, Subjects: d.ConsumerSpec(0).Subjects,
			Digest: conformance.SchemaDigest(pool, inbox.Schema)}
	}, conformance.Simulated(t, 6, 11))
}

package store_test

import (
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/services/router/internal/store"
)

func TestRouterConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		b := setup(t)
		return conformance.Consumer{Handler: b.handler.Handle, Subjects: b.handler.Mux().Subjects(),
			Digest: conformance.SchemaDigest(b.pool, store.Schema)}
	}, conformance.Simulated(t, 6, 13))
}

package projection_test

import (
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/projection"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var migrate = pgtest.WithPool(store.Migrate, outbox.New(store.Schema).Migrate)

func TestProjectionConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		_, pool := pgtest.NewPool(t, "workspace-projection", migrate)
		p := projection.New(pool, outbox.New(store.Schema), sealedtest.New(t, pool), []byte("conformance-match-key"))
		return conformance.Consumer{Handler: p.Handle, Subjects: projection.Subjects(),
			Digest: conformance.SchemaDigest(pool, store.Schema), Batch: p.Batch(0)}
	}, conformance.Simulated(t, 6, 15))
}

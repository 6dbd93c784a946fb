package projection_test

import (
	"context"
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/conformance"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/projection"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func migrate(ctx context.Context, url string) error {
	pool, err := pgdb.Open(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	return outbox.New(store.Schema).Migrate(ctx, pool)
}

func TestProjectionConformsToTheConsumerSuite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) conformance.Consumer {
		pool, err := pgdb.Open(t.Context(), pgtest.NewDatabase(t, "workspace-projection", migrate))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		p := projection.New(pool, outbox.New(store.Schema))
		return conformance.Consumer{Handler: p.Handle, Subjects: projection.Subjects(),
			Digest: conformance.SchemaDigest(pool, store.Schema)}
	}, conformance.Simulated(t, 6, 15))
}

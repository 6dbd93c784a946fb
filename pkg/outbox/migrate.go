package outbox

import (
	"context"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
)

// MigrateService brings the database of a service that seals its data and
// publishes through this outbox up to date, in the order each needs the
// last: the service's own migrations in the outbox's schema, the shared
// table of the incidents' keys, then the outbox's tables.
func (s *Store) MigrateService(ctx context.Context, pool *pgxpool.Pool, migrations fs.FS) error {
	if err := pgdb.Migrate(ctx, pool, s.schema, migrations); err != nil {
		return err
	}
	if err := sealed.Migrate(ctx, pool); err != nil {
		return err
	}
	return s.Migrate(ctx, pool)
}

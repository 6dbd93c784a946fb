package serverenv

import (
	"context"
	"errors"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
)

// Sealer returns the service's sealer for personal data, its keyring named
// by LANTERN_KEK (and LANTERN_KEK_PREVIOUS during a rotation). The
// service's own Migrate creates the shared keys schema (sealed.Migrate),
// as the owner role where there is one. A service that stores personal
// data calls it in Build; without LANTERN_KEK it refuses to start rather
// than store plaintext.
func (e *Env) Sealer(ctx context.Context) (*sealed.Sealer, error) {
	if e.DB == nil {
		return nil, errors.New("the sealer needs the database (Options.Database)")
	}
	ring, err := sealed.KeyringFromEnv(ctx, "")
	if err != nil {
		return nil, err
	}
	return sealed.New(e.DB, ring, clock.System), nil
}

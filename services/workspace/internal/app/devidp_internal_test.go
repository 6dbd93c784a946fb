package app

import (
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/devidp"
)

// The tests sign in through the development identity provider whatever
// the build tags: a test binary is never a production build.
func init() {
	devIdentityProvider = func(cfg *config.Config, redirectURI string, c clock.Clock) (devProvider, error) {
		return devidp.ForWorkspace(cfg, redirectURI, c)
	}
}

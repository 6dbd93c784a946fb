//go:build devidp

package app

import (
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/devidp"
)

// Only a build with the devidp tag (make run's, and the test clusters')
// links the development identity provider in.
func init() { devIdentityProvider = newDevProvider }

func newDevProvider(cfg *config.Config, redirectURI string, c clock.Clock) (devProvider, error) {
	return devidp.ForWorkspace(cfg, redirectURI, c)
}

package devidp

import (
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
)

// ForWorkspace builds the provider the workspace's configuration asks for:
// its issuer under the public address, the workspace as its one client
// returning to redirectURI, the users of LANTERN_DEV_USERS_FILE, and the
// sign-in rate limit.
func ForWorkspace(cfg *config.Config, redirectURI string, c clock.Clock) (*Provider, error) {
	users, err := LoadUsers(cfg.DevUsersFile)
	if err != nil {
		return nil, err
	}
	return New(Options{Issuer: cfg.Issuer(), ClientID: cfg.OIDCClientID, Audience: cfg.Audience(),
		RedirectURIs: []string{redirectURI}, Users: users.Users, Clock: c,
		Limit: ratelimit.New(cfg.SignInRateLimit, c), Proxies: cfg.Proxies()})
}

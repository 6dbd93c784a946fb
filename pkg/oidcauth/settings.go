package oidcauth

// Settings name the identity provider whose access tokens a service takes,
// read from the environment alike by the workspace, which signs people in,
// and by the ledger, whose audit API takes the workspace's tokens.
// Embedded in a service's configuration, its fields stand there as if
// declared in it.
type Settings struct {
	// OIDCIssuer is the OpenID Connect issuer.
	OIDCIssuer   string `env:"LANTERN_OIDC_ISSUER"`
	OIDCClientID string `env:"LANTERN_OIDC_CLIENT_ID, default=lantern-workspace"`
	// OIDCAudience is the aud access tokens must carry; it defaults to the
	// client id.
	OIDCAudience string `env:"LANTERN_OIDC_AUDIENCE"`
	// RoleClaim names the claim that carries a person's role.
	RoleClaim string `env:"LANTERN_OIDC_ROLE_CLAIM, default=lantern_role"`
}

// Audience is the aud access tokens must carry: the one set, else the
// client id.
func (s *Settings) Audience() string {
	if s.OIDCAudience != "" {
		return s.OIDCAudience
	}
	return s.OIDCClientID
}

// Package signin signs people in to the workspace with OpenID Connect and
// keeps their sessions. Browsers use the authorization code flow with PKCE,
// state and nonce, and then a server-side session whose cookie is HttpOnly,
// SameSite=Lax and, whenever the public address is https, Secure with a
// __Host- name. A session ends at its absolute expiry or after an idle
// timeout, whichever comes first. The JSON
// API takes bearer tokens instead: access tokens signed by the configured
// issuer for the configured audience (package oidcauth), never ID tokens.
package signin

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
)

// Options configure sign-in.
type Options struct {
	// Issuer is the OpenID Connect issuer URL.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Audience is the aud bearer tokens must carry.
	Audience string
	// RedirectURL is the public address of the callback, /auth/callback.
	RedirectURL string
	// Backchannel, when set, is where the workspace reaches the issuer's
	// token and key endpoints itself (the built-in development provider,
	// served by this same process); the browser still goes to Issuer.
	Backchannel string
	// Claim names for the role, the organisation and its name.
	RoleClaim, OrgClaim, OrgNameClaim string
	// SessionTTL is a session's absolute lifetime; SessionIdle ends it
	// sooner when the browser has not used it for that long.
	SessionTTL, SessionIdle time.Duration
	// Secure marks cookies Secure and gives them the __Host- and
	// __Secure- names; it is on when the public address is https.
	Secure bool
}

// Cookie names. Over https the session cookie is a __Host- cookie, which
// browsers accept only when Secure, for the whole site (Path=/) and for
// this host alone (no Domain), so neither a sibling subdomain nor a plain
// http page can plant or overwrite it; the sign-in cookie, which lives
// under /auth, is a __Secure- cookie.
const (
	sessionCookie = "lantern_session"
	signinCookie  = "lantern_signin"
	// CallbackPath is where the identity provider sends the browser back.
	CallbackPath = "/auth/callback"
)

// SessionCookie is the name of the session cookie.
func (a *Authenticator) SessionCookie() string {
	if a.o.Secure {
		return "__Host-" + sessionCookie
	}
	return sessionCookie
}

func (a *Authenticator) signinCookie() string {
	if a.o.Secure {
		return "__Secure-" + signinCookie
	}
	return signinCookie
}

// signinLifetime bounds the time between leaving for the identity provider
// and coming back.
const signinLifetime = 10 * time.Minute

// Authenticator signs people in and finds who is asking.
type Authenticator struct {
	o      Options
	pool   *pgxpool.Pool
	clock  clock.Clock
	issuer *oidcauth.Issuer
}

// New returns an authenticator. It reaches the identity provider only
// when first needed, so the workspace starts even while the provider is
// down, and tries again on the next request if it fails.
func New(o Options, pool *pgxpool.Pool, c clock.Clock) *Authenticator {
	issuer := oidcauth.New(oidcauth.Options{Issuer: o.Issuer, Audience: o.Audience, Backchannel: o.Backchannel,
		Claims: oidcauth.ClaimNames{Role: o.RoleClaim, Org: o.OrgClaim, OrgName: o.OrgNameClaim}, Clock: c})
	return &Authenticator{o: o, pool: pool, clock: c, issuer: issuer}
}

func (a *Authenticator) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: a.o.ClientID, ClientSecret: a.o.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: a.o.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile"}}
}

// user reads the identity from a verified ID token's claims.
func (a *Authenticator) user(tok *oidc.IDToken) (identity.User, error) {
	var all map[string]any
	if err := tok.Claims(&all); err != nil {
		return identity.User{}, fmt.Errorf("reading claims: %w", err)
	}
	return identity.FromToken(a.issuer.Claims().Read(tok.Subject, all))
}

// Errors of bearer authentication.
var (
	ErrNoToken  = oidcauth.ErrNoToken
	ErrBadToken = oidcauth.ErrBadToken
)

// Bearer returns the user of the request's bearer token: an access token
// from the issuer, for the audience, unexpired, and not an ID token.
func (a *Authenticator) Bearer(r *http.Request) (identity.User, error) {
	claims, err := a.issuer.Bearer(r)
	if err != nil {
		return identity.User{}, err
	}
	u, err := identity.FromToken(claims)
	if err != nil {
		return identity.User{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	return u, nil
}

func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating random value: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// Package signin signs people in to the workspace with OpenID Connect and
// keeps their sessions. Browsers use the authorization code flow with PKCE,
// state and nonce, and then a server-side session whose cookie is HttpOnly,
// SameSite=Lax and, whenever the public address is https, Secure with a
// __Host- name. A session ends at its absolute expiry or after an idle
// timeout, whichever comes first. The JSON
// API takes bearer tokens instead: JWTs signed by the configured issuer for
// the configured audience.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
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
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// New returns an authenticator. It reaches the identity provider only
// when first needed, so the workspace starts even while the provider is
// down, and tries again on the next request if it fails.
func New(o Options, pool *pgxpool.Pool, c clock.Clock) *Authenticator {
	return &Authenticator{o: o, pool: pool, clock: c, client: &http.Client{Timeout: 15 * time.Second}}
}

func (a *Authenticator) oidcContext(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, a.client)
	return context.WithValue(ctx, oauth2.HTTPClient, a.client)
}

// discover returns the provider, fetching its discovery document once.
func (a *Authenticator) discover(ctx context.Context) (*oidc.Provider, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider != nil {
		return a.provider, nil
	}
	base := a.oidcContext(context.WithoutCancel(ctx))
	if a.o.Backchannel != "" {
		cfg := oidc.ProviderConfig{IssuerURL: a.o.Issuer, AuthURL: a.o.Issuer + "/authorize",
			TokenURL: a.o.Backchannel + "/token", JWKSURL: a.o.Backchannel + "/jwks",
			Algorithms: []string{oidc.ES256, oidc.RS256}}
		a.provider = cfg.NewProvider(base)
		return a.provider, nil
	}
	lookup, cancel := context.WithTimeout(base, 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(lookup, a.o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering the identity provider: %w", err)
	}
	a.provider = p
	return p, nil
}

func (a *Authenticator) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: a.o.ClientID, ClientSecret: a.o.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: a.o.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile"}}
}

// user reads the identity from a verified token's claims.
func (a *Authenticator) user(tok *oidc.IDToken) (identity.User, error) {
	var raw map[string]any
	if err := tok.Claims(&raw); err != nil {
		return identity.User{}, fmt.Errorf("reading claims: %w", err)
	}
	text := func(name string) string {
		s, _ := raw[name].(string)
		return s
	}
	return identity.FromClaims(identity.Claims{Subject: tok.Subject, Name: text("name"), Role: text(a.o.RoleClaim),
		Organisation: text(a.o.OrgClaim), OrgName: text(a.o.OrgNameClaim)})
}

// Errors of bearer authentication.
var (
	ErrNoToken  = errors.New("no bearer token")
	ErrBadToken = errors.New("bearer token not valid")
)

// Bearer returns the user of the request's bearer token: a JWT from the
// issuer, for the audience, unexpired.
func (a *Authenticator) Bearer(r *http.Request) (identity.User, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return identity.User{}, ErrNoToken
	}
	p, err := a.discover(r.Context())
	if err != nil {
		return identity.User{}, err
	}
	v := p.Verifier(&oidc.Config{ClientID: a.o.Audience, Now: a.clock.Now})
	tok, err := v.Verify(a.oidcContext(r.Context()), strings.TrimSpace(token))
	if err != nil {
		return identity.User{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	u, err := a.user(tok)
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

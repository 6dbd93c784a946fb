// Package oidcauth checks the OpenID Connect tokens people bring to
// Lantern's APIs, and reads who they are from their claims. The workspace
// signs people in with it and takes bearer tokens on its API; the ledger's
// audit API takes auditors' bearer tokens the same way.
//
// A bearer token must be an access token: signed by the configured issuer,
// unexpired, for the configured audience, and of the access-token type. An
// ID token is refused even where it carries the API's audience, as several
// providers' ID tokens do, because it proves only that someone signed in to
// a client, not that the client may call the API on their behalf.
//
// Claims are mapped by configuration, since every council's identity
// provider names them its own way: a claim name may be a dotted path into
// nested objects (Keycloak's realm_access.roles), and a role or organisation
// claim may be a single string or an array of strings (Entra ID's roles).
package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
)

// Options configure an issuer.
type Options struct {
	// Issuer is the OpenID Connect issuer URL.
	Issuer string
	// Audience is the aud access tokens must carry.
	Audience string
	// Backchannel, when set, is where this process reaches the token and
	// key endpoints of a provider laid out as Lantern's development
	// provider is (Issuer/authorize, /token, /jwks), instead of
	// discovering them at Issuer: the workspace serves that provider
	// itself and reaches it without going through the gateway.
	Backchannel string
	// Claims name the claims that carry a person's role and organisation.
	Claims ClaimNames
	Clock  clock.Clock
}

// Issuer is a configured identity provider. It is reached only when first
// needed, so a service starts while the provider is down, and a failed
// discovery is tried again on the next request.
type Issuer struct {
	o      Options
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// New returns the issuer o describes.
func New(o Options) *Issuer {
	if o.Clock == nil {
		o.Clock = clock.System
	}
	return &Issuer{o: o, client: &http.Client{Timeout: 15 * time.Second}}
}

// Context carries the HTTP client that reaches the provider.
func (i *Issuer) Context(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, i.client)
	return context.WithValue(ctx, oauth2.HTTPClient, i.client)
}

// Claims are the claim names the issuer reads.
func (i *Issuer) Claims() ClaimNames { return i.o.Claims }

// Now is the issuer's clock.
func (i *Issuer) Now() time.Time { return i.o.Clock.Now() }

// Provider returns the provider, discovering it once.
func (i *Issuer) Provider(ctx context.Context) (*oidc.Provider, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.provider != nil {
		return i.provider, nil
	}
	base := i.Context(context.WithoutCancel(ctx))
	if i.o.Backchannel != "" {
		cfg := oidc.ProviderConfig{IssuerURL: i.o.Issuer, AuthURL: i.o.Issuer + "/authorize",
			TokenURL: i.o.Backchannel + "/token", JWKSURL: i.o.Backchannel + "/jwks",
			Algorithms: []string{oidc.ES256, oidc.RS256}}
		i.provider = cfg.NewProvider(base)
		return i.provider, nil
	}
	lookup, cancel := context.WithTimeout(base, 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(lookup, i.o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering the identity provider: %w", err)
	}
	i.provider = p
	return p, nil
}

// Errors of bearer authentication.
var (
	ErrNoToken  = errors.New("no bearer token")
	ErrBadToken = errors.New("bearer token not valid")
	// ErrNotAccessToken is a valid token of another kind, such as an ID
	// token; it wraps ErrBadToken.
	ErrNotAccessToken = fmt.Errorf("%w: not an access token", ErrBadToken)
)

// BearerToken returns the request's bearer token.
func BearerToken(r *http.Request) (string, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", ErrNoToken
	}
	return token, nil
}

// Bearer verifies the request's bearer token as an access token and
// returns its claims.
func (i *Issuer) Bearer(r *http.Request) (Claims, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return Claims{}, err
	}
	return i.VerifyAccessToken(r.Context(), raw)
}

// VerifyAccessToken checks an access token: signature, issuer, expiry,
// audience, then type.
func (i *Issuer) VerifyAccessToken(ctx context.Context, raw string) (Claims, error) {
	p, err := i.Provider(ctx)
	if err != nil {
		return Claims{}, err
	}
	v := p.Verifier(&oidc.Config{ClientID: i.o.Audience, Now: i.o.Clock.Now})
	tok, err := v.Verify(i.Context(ctx), raw)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	var all map[string]any
	if err := tok.Claims(&all); err != nil {
		return Claims{}, fmt.Errorf("%w: reading claims: %w", ErrBadToken, err)
	}
	if err := checkAccessToken(raw, all); err != nil {
		return Claims{}, err
	}
	return i.o.Claims.Read(tok.Subject, all), nil
}

// idTokenOnly are claims that only ID tokens carry (OpenID Connect Core
// 3.1.3.6 and 3.3.2.11).
var idTokenOnly = []string{"nonce", "at_hash", "c_hash", "s_hash"}

// accessTokenClaims are claims access tokens carry: RFC 9068's client_id
// and scope, and Entra ID's scp. Some ID tokens carry client_id too, which
// is why the ID-token claims are checked first.
var accessTokenClaims = []string{"client_id", "scope", "scp"}

// checkAccessToken tells an access token from an ID token. A token typed
// at+jwt (RFC 9068) is an access token. Most providers type both kinds
// plain JWT, so then the claims decide: no claim only ID tokens carry, a
// Keycloak typ of Bearer where there is one, and one of the claims access
// tokens carry.
func checkAccessToken(raw string, claims map[string]any) error {
	switch typ := strings.ToLower(headerType(raw)); typ {
	case "at+jwt", "application/at+jwt":
		return nil
	case "", "jwt":
	default:
		return fmt.Errorf("%w: typed %q", ErrNotAccessToken, typ)
	}
	for _, name := range idTokenOnly {
		if _, ok := claims[name]; ok {
			return fmt.Errorf("%w: it carries %s, as an ID token does", ErrNotAccessToken, name)
		}
	}
	if typ, ok := claims["typ"].(string); ok && !strings.EqualFold(typ, "Bearer") {
		return fmt.Errorf("%w: its typ claim is %q", ErrNotAccessToken, typ)
	}
	if !slices.ContainsFunc(accessTokenClaims, func(name string) bool { _, ok := claims[name]; return ok }) {
		return fmt.Errorf("%w: it carries none of %s", ErrNotAccessToken, strings.Join(accessTokenClaims, ", "))
	}
	return nil
}

// signingAlgorithms are those headerType accepts; the signature itself has
// already been checked against the provider's keys and algorithms.
var signingAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384,
	jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

// headerType is the typ of a JWS's protected header.
func headerType(raw string) string {
	jws, err := jose.ParseSignedCompact(raw, signingAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return ""
	}
	typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string)
	return typ
}

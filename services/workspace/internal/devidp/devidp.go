// Package devidp is Lantern's development identity provider: a small
// OpenID Connect provider, enabled only with LANTERN_DEV_IDP=true, that
// signs in the sample users `workspace dev-users` generates from the
// reference data. It serves discovery, its signing keys, a sign-in form and
// the token endpoint under /dev-idp, so `make run` needs no identity
// provider of its own. It is for development only: users and passwords
// come from a local file and its keys live only as long as the process.
package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/httpjson"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
)

// Prefix is the path the provider is served under.
const Prefix = "/dev-idp"

// Claim names the tokens carry besides the standard ones.
const (
	ClaimRole    = "lantern_role"
	ClaimOrg     = "lantern_org"
	ClaimOrgName = "lantern_org_name"
)

// Options configure the provider.
type Options struct {
	// Issuer is the provider's public URL, ending in /dev-idp.
	Issuer string
	// ClientID is the one client it serves: the workspace.
	ClientID string
	// Audience is the aud of its access tokens, the API's audience.
	Audience string
	// RedirectURIs are where it may send a browser back to.
	RedirectURIs []string
	Users        []User
	Clock        clock.Clock
	// Limit, when set, bounds the sign-in form's and the token endpoint's
	// requests for each client address and user name, so that passwords
	// cannot be tried at speed.
	Limit   *ratelimit.Limiter
	Proxies ratelimit.Proxies
}

// Provider is the development identity provider.
type Provider struct {
	o     Options
	key   *ecdsa.PrivateKey
	keyID string
	// idSigner types ID tokens JWT and accessSigner types access tokens
	// at+jwt (RFC 9068), so that neither passes for the other.
	idSigner, accessSigner jose.Signer

	mu    sync.Mutex
	codes map[string]grant
}

// grant is an authorisation code waiting to be exchanged.
type grant struct {
	user        User
	clientID    string
	redirectURI string
	nonce       string
	challenge   string
	expires     time.Time
}

// tokenLifetime bounds every token it issues.
const (
	tokenLifetime = time.Hour
	codeLifetime  = 2 * time.Minute
)

// New returns a provider with a fresh signing key.
func New(o Options) (*Provider, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating signing key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("naming signing key: %w", err)
	}
	keyID := base64.RawURLEncoding.EncodeToString(thumb)
	signer := func(typ jose.ContentType) (jose.Signer, error) {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
			(&jose.SignerOptions{}).WithType(typ).WithHeader("kid", keyID))
		if err != nil {
			return nil, fmt.Errorf("creating signer: %w", err)
		}
		return s, nil
	}
	idSigner, err := signer("JWT")
	if err != nil {
		return nil, err
	}
	accessSigner, err := signer("at+jwt")
	if err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = clock.System
	}
	return &Provider{o: o, key: key, keyID: keyID, idSigner: idSigner, accessSigner: accessSigner, codes: map[string]grant{}}, nil
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.o.Issuer }

// Handler serves the provider under Prefix.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET "+Prefix+"/jwks", p.jwks)
	mux.HandleFunc("GET "+Prefix+"/authorize", p.authorizeForm)
	mux.Handle("POST "+Prefix+"/authorize", p.limited(p.authorize))
	mux.Handle("POST "+Prefix+"/token", p.limited(p.token))
	return mux
}

// limited applies the limit to a form endpoint, keyed by the client's
// address and the user name it tries.
func (p *Provider) limited(h http.HandlerFunc) http.Handler {
	if p.o.Limit == nil {
		return h
	}
	return p.o.Limit.Handler(func(r *http.Request) string {
		r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
		_ = r.ParseForm()
		return p.o.Proxies.ClientAddress(r) + " " + r.PostForm.Get("username")
	}, h)
}

// maxForm bounds a sign-in form or token request.
const maxForm = 16 << 10

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	_ = httpjson.Write(w, http.StatusOK, map[string]any{
		"issuer":                                p.o.Issuer,
		"authorization_endpoint":                p.o.Issuer + "/authorize",
		"token_endpoint":                        p.o.Issuer + "/token",
		"jwks_uri":                              p.o.Issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "password"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_post"},
		"claims_supported":                      []string{"sub", "name", ClaimRole, ClaimOrg, ClaimOrgName},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	_ = httpjson.Write(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: p.keyID, Algorithm: string(jose.ES256), Use: "sig"}}})
}

// userByName finds a user and checks the password in constant time.
func (p *Provider) userByName(username, password string) (User, bool) {
	i := slices.IndexFunc(p.o.Users, func(u User) bool { return u.Username == username })
	if i < 0 {
		return User{}, false
	}
	u := p.o.Users[i]
	want := sha256.Sum256([]byte(u.Password))
	got := sha256.Sum256([]byte(password))
	return u, subtle.ConstantTimeCompare(want[:], got[:]) == 1
}

// signID issues an ID token for u, for the client.
func (p *Provider) signID(u User, nonce string) (string, error) {
	extra := map[string]any{}
	if nonce != "" {
		extra["nonce"] = nonce
	}
	return p.sign(p.idSigner, u, p.o.ClientID, extra)
}

// signAccess issues an access token for u, for the API's audience, with
// the claims of RFC 9068.
func (p *Provider) signAccess(u User) (string, error) {
	jti, err := randomString(16)
	if err != nil {
		return "", err
	}
	return p.sign(p.accessSigner, u, p.o.Audience, map[string]any{"client_id": p.o.ClientID, "scope": "openid profile", "jti": jti})
}

func (p *Provider) sign(signer jose.Signer, u User, aud string, extra map[string]any) (string, error) {
	now := p.o.Clock.Now()
	c := u.Claims()
	std := jwt.Claims{Issuer: p.o.Issuer, Subject: c.Subject, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		Expiry: jwt.NewNumericDate(now.Add(tokenLifetime))}
	extra["name"], extra[ClaimRole] = c.Name, c.Role
	if c.Organisation != "" {
		extra[ClaimOrg] = c.Organisation
		extra[ClaimOrgName] = c.OrgName
	}
	token, err := jwt.Signed(signer).Claims(std).Claims(extra).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return token, nil
}

// oauthError answers a token request with an RFC 6749 error.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	_ = httpjson.Write(w, status, map[string]string{"error": code, "error_description": description})
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating random value: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

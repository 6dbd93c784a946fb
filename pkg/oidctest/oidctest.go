// Package oidctest runs an independent OpenID Connect provider in process for
// tests: zitadel's op package, a certified provider implementation that
// shares no code with Lantern, over an in-memory store. Each test user
// carries whatever claims a test gives it, in the shape a council's
// identity provider would send them (Entra ID's roles array, Keycloak's
// nested realm_access.roles), so that sign-in and bearer tokens are proved
// against tokens Lantern did not make itself.
//
// Its access tokens are JWTs for the configured audience; its ID tokens carry
// the same audience, as several providers' do, so a test can show that an ID
// token is still refused where an access token is needed.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
)

// User is a person the provider can sign in.
type User struct {
	Subject string
	Name    string
	// Claims go into both the ID token and the access token, as they are:
	// a string, an array of strings or a nested object.
	Claims map[string]any
}

// Options configure the provider.
type Options struct {
	// ClientID is the one client it serves; ClientSecret, when set, is
	// required of it at the token endpoint.
	ClientID, ClientSecret string
	// Audience is added to the client id in every token's aud.
	Audience string
	// RedirectURIs are where it may send a browser back to.
	RedirectURIs []string
	Users        []User
	// TokenLifetime bounds every token; one hour when zero.
	TokenLifetime time.Duration
}

// Provider is a running provider.
type Provider struct {
	server *httptest.Server
	op     *op.Provider
	store  *storage
}

// Start runs a provider until the test ends.
func Start(t testing.TB, o Options) *Provider {
	t.Helper()
	if o.TokenLifetime == 0 {
		o.TokenLifetime = time.Hour
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating the provider's key: %v", err)
	}
	s := &storage{o: o, key: key, keyID: rand.Text(), requests: map[string]*authRequest{}, codes: map[string]string{}}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:])
	provider, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true},
		s, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("starting the provider: %v", err)
	}
	p := &Provider{server: srv, op: provider, store: s}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.loginForm)
	mux.HandleFunc("POST /login", p.login)
	mux.Handle("/", provider)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.server.URL }

// LoginPath is the path of the provider's sign-in form.
const LoginPath = "/login"

// SignIn completes, as username, the sign-in whose form page a browser has
// reached, and follows the redirects back with the browser's client.
func (p *Provider) SignIn(client *http.Client, form *http.Response, username string) (*http.Response, error) {
	id := form.Request.URL.Query().Get("authRequestID")
	if form.Request.URL.Path != LoginPath || id == "" {
		return nil, fmt.Errorf("the browser is at %s, not at the provider's sign-in form", form.Request.URL)
	}
	return client.PostForm(p.Issuer()+LoginPath, url.Values{"id": {id}, "username": {username}})
}

// Tokens signs username in through the authorization code flow, as a
// command-line client would, and returns the access token and the ID token
// the token endpoint gives.
func (p *Provider) Tokens(t testing.TB, username string) (access, id string) {
	t.Helper()
	access, id, err := p.tokens(username)
	if err != nil {
		t.Fatalf("tokens for %s: %v", username, err)
	}
	return access, id
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<title>Test provider</title>
<form method="post" action="/login"><input type="hidden" name="id" value="{{.}}">
<input name="username"><button>Sign in</button></form>
`))

func (p *Provider) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, r.URL.Query().Get("authRequestID"))
}

func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	if err := p.store.complete(id, r.PostFormValue("username")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(p.op)(op.ContextWithIssuer(r.Context(), p.Issuer()), id), http.StatusFound)
}

// errNotFound is the store's answer for anything it does not hold.
var errNotFound = errors.New("not found")

// storage is the provider's state, in memory.
type storage struct {
	o     Options
	key   *rsa.PrivateKey
	keyID string

	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string
}

func (s *storage) user(subject string) (User, bool) {
	i := slices.IndexFunc(s.o.Users, func(u User) bool { return u.Subject == subject })
	if i < 0 {
		return User{}, false
	}
	return s.o.Users[i], true
}

func (s *storage) complete(id, username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if _, known := s.user(username); !ok || !known {
		return errors.New("unknown sign-in or user")
	}
	req.subject, req.authTime, req.done = username, time.Now(), true
	return nil
}

func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := &authRequest{id: rand.Text(), r: *r, audience: []string{s.o.ClientID}}
	if s.o.Audience != "" {
		req.audience = append(req.audience, s.o.Audience)
	}
	s.requests[req.id] = req
	return req, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req, ok := s.requests[id]; ok {
		return req, nil
	}
	return nil, errNotFound
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errNotFound
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	maps.DeleteFunc(s.codes, func(_, v string) bool { return v == id })
	return nil
}

func (s *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return rand.Text(), time.Now().Add(s.o.TokenLifetime), nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("refresh tokens are not offered")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return signingKey{s}, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) { return []op.Key{publicKey{s}}, nil }

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.o.ClientID {
		return nil, errNotFound
	}
	return client{s.o}, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.o.ClientID || secret != s.o.ClientSecret {
		return errors.New("the client is not known or its secret is wrong")
	}
	return nil
}

func (s *storage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, subject, _ string, _ []string) error {
	u, ok := s.user(subject)
	if !ok {
		return errNotFound
	}
	info.Subject, info.Name = u.Subject, u.Name
	for k, v := range u.Claims {
		info.AppendClaims(k, v)
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, _, subject, _ string) error {
	return s.SetUserinfoFromScopes(ctx, info, subject, "", nil)
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not offered")
}

func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, subject, _ string, _ []string) (map[string]any, error) {
	u, ok := s.user(subject)
	if !ok {
		return nil, errNotFound
	}
	claims := maps.Clone(u.Claims)
	if claims == nil {
		claims = map[string]any{}
	}
	claims["name"] = u.Name
	return claims, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not offered")
}

func (s *storage) Health(context.Context) error { return nil }

type signingKey struct{ s *storage }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.s.key }
func (k signingKey) ID() string                                  { return k.s.keyID }

type publicKey struct{ s *storage }

func (k publicKey) ID() string                         { return k.s.keyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.s.key.PublicKey }

// authRequest is one sign-in, from the authorize request to the token.
type authRequest struct {
	id       string
	r        oidc.AuthRequest
	audience []string
	subject  string
	authTime time.Time
	done     bool
}

func (a *authRequest) GetID() string                      { return a.id }
func (a *authRequest) GetACR() string                     { return "" }
func (a *authRequest) GetAMR() []string                   { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string              { return a.audience }
func (a *authRequest) GetAuthTime() time.Time             { return a.authTime }
func (a *authRequest) GetClientID() string                { return a.r.ClientID }
func (a *authRequest) GetNonce() string                   { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.r.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.r.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.r.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: a.r.CodeChallengeMethod}
}

// client is the one client the provider serves.
type client struct{ o Options }

func (c client) GetID() string                    { return c.o.ClientID }
func (c client) RedirectURIs() []string           { return append(slices.Clone(c.o.RedirectURIs), cliRedirect) }
func (c client) PostLogoutRedirectURIs() []string { return nil }
func (c client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}
func (c client) AuthMethod() oidc.AuthMethod {
	if c.o.ClientSecret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodPost
}
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c client) LoginURL(id string) string {
	return LoginPath + "?authRequestID=" + url.QueryEscape(id)
}
func (c client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeJWT
}
func (c client) IDTokenLifetime() time.Duration { return c.o.TokenLifetime }

// DevMode lets the client return to plain http addresses, as tests do.
func (c client) DevMode() bool { return true }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(string) bool           { return false }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }

// cliRedirect is where Tokens has the provider send its code; nothing
// listens there, the redirect is read and not followed.
const cliRedirect = "http://127.0.0.1:9/oidctest-callback"

func (p *Provider) tokens(username string) (access, id string, err error) {
	ctx := op.ContextWithIssuer(context.Background(), p.Issuer())
	cfg := oauth2.Config{ClientID: p.store.o.ClientID, ClientSecret: p.store.o.ClientSecret, RedirectURL: cliRedirect,
		Scopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile}, Endpoint: oauth2.Endpoint{
			AuthURL: p.op.AuthorizationEndpoint().Absolute(p.Issuer()), TokenURL: p.op.TokenEndpoint().Absolute(p.Issuer()),
			AuthStyle: oauth2.AuthStyleInParams}}
	verifier, state := oauth2.GenerateVerifier(), rand.Text()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), cliRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	form, err := browser.Get(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		return "", "", err
	}
	form.Body.Close()
	back, err := p.SignIn(browser, form, username)
	if err != nil {
		return "", "", err
	}
	back.Body.Close()
	to, err := url.Parse(back.Header.Get("Location"))
	if err != nil || to.Query().Get("state") != state || to.Query().Get("code") == "" {
		return "", "", fmt.Errorf("the provider answered %d, Location %q", back.StatusCode, back.Header.Get("Location"))
	}
	tok, err := cfg.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return "", "", fmt.Errorf("exchanging the code: %w", err)
	}
	id, _ = tok.Extra("id_token").(string)
	return tok.AccessToken, id, nil
}

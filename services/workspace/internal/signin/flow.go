package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

// Begin starts a sign-in: it stores the state, nonce and PKCE verifier,
// binds them to this browser with a cookie, and sends the browser to the
// identity provider.
func (a *Authenticator) Begin(w http.ResponseWriter, r *http.Request, returnTo string) error {
	p, err := a.issuer.Provider(r.Context())
	if err != nil {
		return err
	}
	var s store.SignIn
	binding, err := random(32)
	if err != nil {
		return err
	}
	if s.State, err = random(24); err != nil {
		return err
	}
	if s.Nonce, err = random(24); err != nil {
		return err
	}
	s.Verifier = oauth2.GenerateVerifier()
	s.BindingHash, s.ReturnTo = hash(binding), SafeReturn(returnTo)
	now := a.clock.Now()
	s.ExpiresAt = now.Add(signinLifetime)
	if err := store.PutSignIn(r.Context(), a.pool, s, now); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: a.signinCookie(), Value: binding, Path: "/auth", HttpOnly: true,
		Secure: a.o.Secure, SameSite: http.SameSiteLaxMode, MaxAge: int(signinLifetime.Seconds())})
	target := a.oauth(p).AuthCodeURL(s.State, oidc.Nonce(s.Nonce), oauth2.S256ChallengeOption(s.Verifier))
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// ErrSignIn is a sign-in that cannot be completed: expired, started in
// another browser, refused by the provider, or for someone with no role.
var ErrSignIn = errors.New("the sign-in could not be completed")

// Callback completes a sign-in, starts a session and returns where to go.
func (a *Authenticator) Callback(w http.ResponseWriter, r *http.Request) (identity.User, string, error) {
	ctx := r.Context()
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return identity.User{}, "", fmt.Errorf("%w: the identity provider answered %q", ErrSignIn, e)
	}
	s, err := store.TakeSignIn(ctx, a.pool, q.Get("state"), a.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return identity.User{}, "", fmt.Errorf("%w: unknown or expired state", ErrSignIn)
	}
	if err != nil {
		return identity.User{}, "", err
	}
	cookie, err := r.Cookie(a.signinCookie())
	if err != nil || subtle.ConstantTimeCompare(hash(cookie.Value), s.BindingHash) != 1 {
		return identity.User{}, "", fmt.Errorf("%w: started in another browser", ErrSignIn)
	}
	u, err := a.exchange(ctx, q.Get("code"), s)
	if err != nil {
		return identity.User{}, "", err
	}
	http.SetCookie(w, &http.Cookie{Name: a.signinCookie(), Value: "", Path: "/auth", MaxAge: -1, HttpOnly: true, Secure: a.o.Secure})
	if err := a.startSession(ctx, w, u); err != nil {
		return identity.User{}, "", err
	}
	return u, s.ReturnTo, nil
}

func (a *Authenticator) exchange(ctx context.Context, code string, s store.SignIn) (identity.User, error) {
	p, err := a.issuer.Provider(ctx)
	if err != nil {
		return identity.User{}, err
	}
	octx := a.issuer.Context(ctx)
	tok, err := a.oauth(p).Exchange(octx, code, oauth2.VerifierOption(s.Verifier))
	if err != nil {
		return identity.User{}, fmt.Errorf("%w: exchanging the code: %w", ErrSignIn, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: a.o.ClientID, Now: a.clock.Now}).Verify(octx, raw)
	if err != nil {
		return identity.User{}, fmt.Errorf("%w: verifying the ID token: %w", ErrSignIn, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(s.Nonce)) != 1 {
		return identity.User{}, fmt.Errorf("%w: the nonce does not match", ErrSignIn)
	}
	u, err := a.user(idt)
	if err != nil {
		return identity.User{}, fmt.Errorf("%w: %w", ErrSignIn, err)
	}
	return u, nil
}

func (a *Authenticator) startSession(ctx context.Context, w http.ResponseWriter, u identity.User) error {
	token, err := random(32)
	if err != nil {
		return err
	}
	csrf, err := random(24)
	if err != nil {
		return err
	}
	now := a.clock.Now()
	s := store.Session{UserID: u.ID, Name: u.Name, Role: string(u.Role), Organisation: u.Org.String(),
		OrganisationName: u.OrgName, CSRFToken: csrf, ExpiresAt: now.Add(a.o.SessionTTL)}
	err = pgdb.InTx(ctx, a.pool, func(tx pgx.Tx) error {
		if err := store.PutSession(ctx, tx, hash(token), s, now); err != nil {
			return err
		}
		return store.RememberUser(ctx, tx, u.ID, u.Name, string(u.Role), u.Org.String(), now)
	})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: a.SessionCookie(), Value: token, Path: "/", HttpOnly: true, Secure: a.o.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(a.o.SessionTTL.Seconds())})
	return nil
}

// Session is a signed-in browser: who, and the token its forms carry.
type Session struct {
	User identity.User
	CSRF string
}

// ErrNoSession is returned when the browser is not signed in.
var ErrNoSession = errors.New("not signed in")

// Session returns the request's session, and counts the request as use,
// so that only a session left idle for SessionIdle ends early.
func (a *Authenticator) Session(r *http.Request) (Session, error) {
	c, err := r.Cookie(a.SessionCookie())
	if err != nil || c.Value == "" {
		return Session{}, ErrNoSession
	}
	now := a.clock.Now()
	s, err := store.UseSession(r.Context(), a.pool, hash(c.Value), now, now.Add(-a.o.SessionIdle))
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	u, err := identity.FromClaims(identity.Claims{Subject: s.UserID, Name: s.Name, Role: s.Role,
		Organisation: s.Organisation, OrgName: s.OrganisationName})
	if err != nil {
		return Session{}, ErrNoSession
	}
	return Session{User: u, CSRF: s.CSRFToken}, nil
}

// CheckCSRF reports whether a form carries the session's token.
func (s Session) CheckCSRF(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// SignOut ends the session and clears its cookie.
func (a *Authenticator) SignOut(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, &http.Cookie{Name: a.SessionCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.o.Secure})
	c, err := r.Cookie(a.SessionCookie())
	if err != nil {
		return nil
	}
	return store.DeleteSession(r.Context(), a.pool, hash(c.Value), a.clock.Now())
}

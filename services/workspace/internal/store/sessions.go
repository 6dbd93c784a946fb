package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is a signed-in browser.
type Session struct {
	UserID           string
	Name             string
	Role             string
	Organisation     string
	OrganisationName string
	CSRFToken        string
	ExpiresAt        time.Time
}

// PutSession stores a session under the hash of its cookie token.
func PutSession(ctx context.Context, q Querier, tokenHash []byte, s Session, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO workspace.sessions (token_hash, user_id, name, role, organisation,
		organisation_name, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,$9)`,
		tokenHash, s.UserID, s.Name, s.Role, s.Organisation, s.OrganisationName, s.CSRFToken, now, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("storing session: %w", err)
	}
	return nil
}

// UseSession returns the session with that token hash and marks it used
// at now, unless it has passed its absolute expiry or has been left unused
// since idleSince. A session found past either limit is deleted, so that
// it cannot come back.
func UseSession(ctx context.Context, q Querier, tokenHash []byte, now, idleSince time.Time) (Session, error) {
	var s Session
	err := q.QueryRow(ctx, `UPDATE workspace.sessions SET last_seen_at = $2
		WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3
		RETURNING user_id, name, role, organisation, organisation_name, csrf_token, expires_at`, tokenHash, now, idleSince).
		Scan(&s.UserID, &s.Name, &s.Role, &s.Organisation, &s.OrganisationName, &s.CSRFToken, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := q.Exec(ctx, `DELETE FROM workspace.sessions WHERE token_hash = $1`, tokenHash); err != nil {
			return Session{}, fmt.Errorf("ending a lapsed session: %w", err)
		}
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("reading session: %w", err)
	}
	return s, nil
}

// DeleteSession ends a session, and any session past its time.
func DeleteSession(ctx context.Context, q Querier, tokenHash []byte, now time.Time) error {
	_, err := q.Exec(ctx, `DELETE FROM workspace.sessions WHERE token_hash = $1 OR expires_at <= $2`, tokenHash, now)
	if err != nil {
		return fmt.Errorf("ending session: %w", err)
	}
	return nil
}

// RememberUser keeps the name a user signed in with, for pages that show
// who acknowledged or decided.
func RememberUser(ctx context.Context, q Querier, userID, name, role, organisation string, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO workspace.users (user_id, name, role, organisation, last_seen_at)
		VALUES ($1,$2,$3,$4,$5) ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, role = excluded.role,
		organisation = excluded.organisation, last_seen_at = excluded.last_seen_at`, userID, name, role, organisation, now)
	if err != nil {
		return fmt.Errorf("remembering user: %w", err)
	}
	return nil
}

// SignIn is an OpenID Connect sign-in in progress.
type SignIn struct {
	State       string
	BindingHash []byte
	Nonce       string
	Verifier    string
	ReturnTo    string
	ExpiresAt   time.Time
}

// PutSignIn stores a sign-in in progress, and forgets those past their time.
func PutSignIn(ctx context.Context, q Querier, s SignIn, now time.Time) error {
	if _, err := q.Exec(ctx, `DELETE FROM workspace.signins WHERE expires_at <= $1`, now); err != nil {
		return fmt.Errorf("forgetting old sign-ins: %w", err)
	}
	_, err := q.Exec(ctx, `INSERT INTO workspace.signins (state, binding_hash, nonce, verifier, return_to, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6)`, s.State, s.BindingHash, s.Nonce, s.Verifier, s.ReturnTo, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("storing sign-in: %w", err)
	}
	return nil
}

// TakeSignIn returns and deletes the unexpired sign-in with that state, so
// that a state can be used once only.
func TakeSignIn(ctx context.Context, q Querier, state string, now time.Time) (SignIn, error) {
	s := SignIn{State: state}
	err := q.QueryRow(ctx, `DELETE FROM workspace.signins WHERE state = $1 AND expires_at > $2
		RETURNING binding_hash, nonce, verifier, return_to, expires_at`, state, now).
		Scan(&s.BindingHash, &s.Nonce, &s.Verifier, &s.ReturnTo, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return SignIn{}, ErrNotFound
	}
	if err != nil {
		return SignIn{}, fmt.Errorf("reading sign-in: %w", err)
	}
	return s, nil
}

package dbroles

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// URLs are where each role of a deployment connects.
type URLs struct {
	// Owner is the role migrations run as (DATABASE_OWNER_URL).
	Owner string
	// Services maps a service's name to its own role's URL (DATABASE_URL).
	Services map[string]string
}

// Env is the database settings of the named service: its own role, and
// the owner for its migrations. A service with no role (the gateway) gets
// none.
func (u URLs) Env(service string) []string {
	own, ok := u.Services[service]
	if !ok {
		return nil
	}
	return []string{"DATABASE_URL=" + own, "DATABASE_OWNER_URL=" + u.Owner}
}

// Provision sets the roles up in the database at adminURL, connecting as
// its role (a superuser: make run's and the tests' local servers), gives
// every role a new random password and returns the URLs they connect with,
// which keep adminURL's host and options.
func Provision(ctx context.Context, adminURL string, r Roles) (URLs, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return URLs{}, fmt.Errorf("connecting to set the database roles up: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	stmts, err := r.Setup(conn.Config().Database)
	if err != nil {
		return URLs{}, err
	}
	for _, stmt := range stmts {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return URLs{}, fmt.Errorf("setting the database roles up: %s: %w", firstLine(stmt), err)
		}
	}
	urls := URLs{Services: map[string]string{}}
	if urls.Owner, err = withPassword(ctx, conn, adminURL, r.Owner()); err != nil {
		return URLs{}, err
	}
	for _, s := range Services {
		if urls.Services[s.Name], err = withPassword(ctx, conn, adminURL, r.Of(s.Name)); err != nil {
			return URLs{}, err
		}
	}
	return urls, nil
}

func withPassword(ctx context.Context, conn *pgx.Conn, adminURL, role string) (string, error) {
	password := rand.Text()
	stmt, err := SetPassword(role, password)
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return "", fmt.Errorf("setting the password of role %s: %w", role, err)
	}
	return AsRole(adminURL, role, password)
}

// AsRole is rawURL with its user and password replaced.
func AsRole(rawURL, role, password string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parsing the database URL: %w", err)
	}
	u.User = url.UserPassword(role, password)
	return u.String(), nil
}

// Unprovision drops the roles; their database must be gone first, since
// a role that holds privileges cannot be dropped.
func Unprovision(ctx context.Context, adminURL string, r Roles) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	for _, stmt := range r.Drop() {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("dropping a database role: %w", err)
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

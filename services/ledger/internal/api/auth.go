package api

import (
	"errors"
	"net/http"

	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
)

// Errors of authentication.
var (
	// ErrUnauthenticated means the request carries no credential the
	// route accepts.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrNotAuditor means a signed-in person without the auditor role.
	ErrNotAuditor = errors.New("not an auditor")
)

// Authorizer names who sent a request and what they may read. The police
// timeline of the contract takes the intake credentials (PoliceTokens);
// the audit routes take auditors signed in at the identity provider
// (Auditors), never a police credential.
type Authorizer interface {
	// Authenticate names who sent r, or returns ErrUnauthenticated or
	// ErrNotAuditor; any other error means it could not be checked.
	Authenticate(r *http.Request) (Principal, error)
}

// Principal is an authenticated caller.
type Principal interface {
	// ID names the caller in the consultation record.
	ID() string
	// MayReadReport says whether the caller may read the partnership's
	// timeliness report, which spans every force and agency.
	MayReadReport() bool
	// MayReadIncident says whether the caller may read the history of an
	// incident reported by force.
	MayReadIncident(force string) bool
}

// PoliceTokens authorises with the intake credentials: a force reads the
// timelines of its own incidents.
type PoliceTokens struct{ Tokens policeauth.Tokens }

var _ Authorizer = PoliceTokens{}

// Authenticate checks the bearer token.
func (p PoliceTokens) Authenticate(r *http.Request) (Principal, error) {
	cred, ok := p.Tokens.Authenticate(r)
	if !ok {
		return nil, ErrUnauthenticated
	}
	return policePrincipal{cred}, nil
}

type policePrincipal struct{ cred policeauth.Credential }

func (p policePrincipal) ID() string                    { return "police:" + p.cred.Force }
func (p policePrincipal) MayReadReport() bool           { return false }
func (p policePrincipal) MayReadIncident(f string) bool { return p.cred.MayActFor(f) }

// AuditorRole is the role an identity provider gives auditors, the same
// role the workspace's auditor pages require.
const AuditorRole = "auditor"

// Auditors authorises people signed in at the identity provider whose
// access token gives them the auditor role; they read the report and
// every incident's timeline. With no issuer configured nobody is let in.
type Auditors struct{ Issuer *oidcauth.Issuer }

var _ Authorizer = Auditors{}

// Authenticate checks the bearer token and the role.
func (a Auditors) Authenticate(r *http.Request) (Principal, error) {
	if a.Issuer == nil {
		return nil, ErrUnauthenticated
	}
	claims, err := a.Issuer.Bearer(r)
	if errors.Is(err, oidcauth.ErrNoToken) || errors.Is(err, oidcauth.ErrBadToken) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if !claims.HasRole(AuditorRole) {
		return nil, ErrNotAuditor
	}
	return auditor{claims.Subject}, nil
}

type auditor struct{ subject string }

func (a auditor) ID() string                  { return "user:" + a.subject }
func (a auditor) MayReadReport() bool         { return true }
func (a auditor) MayReadIncident(string) bool { return true }

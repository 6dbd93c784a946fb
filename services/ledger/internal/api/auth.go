package api

import (
	"errors"
	"net/http"

	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
)

// ErrUnauthenticated means the request carries no credential Lantern
// accepts.
var ErrUnauthenticated = errors.New("not authenticated")

// Authorizer is the seam where sign-in plugs into the audit routes: it
// names who sent a request and what they may read. Today's implementation
// accepts the police intake tokens (PoliceTokens); the auditors' signed-in
// web page will bring one backed by its identity provider and roles.
type Authorizer interface {
	// Authenticate names who sent r, or returns ErrUnauthenticated.
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
// timelines of its own incidents, and only a credential for every force
// reads the report.
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
func (p policePrincipal) MayReadReport() bool           { return p.cred.Force == policeauth.AnyForce }
func (p policePrincipal) MayReadIncident(f string) bool { return p.cred.MayActFor(f) }

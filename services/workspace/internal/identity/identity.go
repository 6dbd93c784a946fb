// Package identity describes the people who use the workspace: their role,
// the organisation they work for, and how both are read from the claims an
// identity provider signs. A person's organisation is named exactly as the
// recipient of a notice is (kind and id), so that whether a notice is theirs
// is a comparison, never a guess.
package identity

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
)

// Role is what a person does in Lantern, carried in the lantern_role claim.
type Role string

// The roles of the workspace. The home education officer is the local
// authority's elective home education team, told of children educated at
// home or missing education.
const (
	RoleMASHWorker     Role = "mash_worker"
	RoleMASHManager    Role = "mash_manager"
	RoleSchoolKeyAdult Role = "school_key_adult"
	RoleHealth         Role = "health"
	RoleProbation      Role = "probation"
	RoleMARAC          Role = "marac"
	RoleIDVA           Role = "idva"
	RoleHomeEducation  Role = "home_education_officer"
	// RolePartnerService works the inbox of a recipient kind the
	// partnership's routing policy declared, such as a domestic abuse
	// service.
	RolePartnerService Role = "partner_service"
	RoleAuditor        Role = "auditor"
	RoleAdministrator  Role = "administrator"
)

// Roles lists every role, the people who receive notices first.
func Roles() []Role {
	return []Role{RoleMASHWorker, RoleMASHManager, RoleSchoolKeyAdult, RoleHealth, RoleProbation,
		RoleMARAC, RoleIDVA, RoleHomeEducation, RolePartnerService, RoleAuditor, RoleAdministrator}
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// WorksFor reports whether a person in this role can work for an
// organisation of kind: one of Kinds, or for the partnership service role
// any kind a partnership declared (not one of the contract's).
func (r Role) WorksFor(kind events.RecipientKind) bool {
	if r == RolePartnerService {
		return kind.Valid() && !events.IsBuiltinKind(kind)
	}
	return slices.Contains(r.Kinds(), kind)
}

// NeedsOrganisation reports whether the role works for an organisation.
func (r Role) NeedsOrganisation() bool { return r == RolePartnerService || len(r.Kinds()) > 0 }

// Kinds returns the contract's kinds of organisation a person in this
// role can work for; it is empty for the roles that belong to no
// organisation and for the partnership service role (see WorksFor).
func (r Role) Kinds() []events.RecipientKind {
	switch r {
	case RoleMASHWorker, RoleMASHManager:
		return []events.RecipientKind{events.KindMASH}
	case RoleSchoolKeyAdult:
		return []events.RecipientKind{events.KindSchool, events.KindEarlyYears}
	case RoleHealth:
		return []events.RecipientKind{events.KindHealthVisiting, events.KindSchoolNursing, events.KindMidwifery, events.KindGP}
	case RoleProbation:
		return []events.RecipientKind{events.KindProbation}
	case RoleMARAC:
		return []events.RecipientKind{events.KindMARAC}
	case RoleIDVA:
		return []events.RecipientKind{events.KindIDVA}
	case RoleHomeEducation:
		return []events.RecipientKind{events.KindHomeEducation}
	}
	return nil
}

// Label is the role in words, for pages.
func (r Role) Label() string {
	switch r {
	case RoleMASHWorker:
		return "MASH worker"
	case RoleMASHManager:
		return "MASH manager"
	case RoleSchoolKeyAdult:
		return "Key adult (designated safeguarding lead)"
	case RoleHealth:
		return "Health practitioner"
	case RoleProbation:
		return "Probation practitioner"
	case RoleMARAC:
		return "MARAC coordinator"
	case RoleIDVA:
		return "IDVA"
	case RoleHomeEducation:
		return "Elective home education officer"
	case RolePartnerService:
		return "Partnership service practitioner"
	case RoleAuditor:
		return "Auditor"
	case RoleAdministrator:
		return "Administrator"
	}
	return string(r)
}

// IsMASH reports whether the role works the MASH triage queue.
func (r Role) IsMASH() bool { return r == RoleMASHWorker || r == RoleMASHManager }

// Organisation is the organisation a person works for, named like a
// notice's recipient: mash:E06000035, school:118234, gp:G82001.
type Organisation struct {
	Kind events.RecipientKind
	ID   string
}

// ParseOrganisation reads "<kind>:<id>". An empty string is no
// organisation.
func ParseOrganisation(s string) (Organisation, error) {
	if s == "" {
		return Organisation{}, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" || strings.TrimSpace(id) != id || len(id) > 128 {
		return Organisation{}, fmt.Errorf("organisation %q is not <kind>:<id>", s)
	}
	if !events.RecipientKind(kind).Valid() {
		return Organisation{}, fmt.Errorf("organisation %q has an unknown kind", s)
	}
	return Organisation{Kind: events.RecipientKind(kind), ID: id}, nil
}

// String is the "<kind>:<id>" form, empty for no organisation.
func (o Organisation) String() string {
	if o.IsZero() {
		return ""
	}
	return string(o.Kind) + ":" + o.ID
}

// IsZero reports whether o is no organisation.
func (o Organisation) IsZero() bool { return o.Kind == "" && o.ID == "" }

// Receives reports whether a notice to recipient is addressed to o.
func (o Organisation) Receives(recipient events.Recipient) bool {
	return !o.IsZero() && o.Kind == recipient.Kind && o.ID == recipient.ID
}

// User is a signed-in person.
type User struct {
	// ID is the identity provider's subject; it is what events record.
	ID   string
	Name string
	Role Role
	Org  Organisation
	// OrgName is the organisation's name for pages; it may be empty.
	OrgName string
}

// Claims are the identity provider's claims the workspace reads.
type Claims struct {
	Subject      string
	Name         string
	Role         string
	Organisation string
	OrgName      string
}

// ErrNoRole is returned for a person whose claims give them no usable
// role in Lantern; they can sign in nowhere.
var ErrNoRole = errors.New("no Lantern role")

// FromClaims checks the claims and builds the user. A role that needs an
// organisation must have one of its kinds, and one that needs none must
// have none, so that a misconfigured account reaches nothing.
func FromClaims(c Claims) (User, error) {
	if c.Subject == "" || len(c.Subject) > 128 {
		return User{}, fmt.Errorf("%w: the subject is missing or too long", ErrNoRole)
	}
	role := Role(c.Role)
	if !role.Valid() {
		return User{}, fmt.Errorf("%w: unknown role %q", ErrNoRole, c.Role)
	}
	org, err := ParseOrganisation(c.Organisation)
	if err != nil {
		return User{}, fmt.Errorf("%w: %w", ErrNoRole, err)
	}
	switch {
	case !role.NeedsOrganisation() && !org.IsZero():
		return User{}, fmt.Errorf("%w: role %s belongs to no organisation", ErrNoRole, role)
	case role.NeedsOrganisation() && !role.WorksFor(org.Kind):
		return User{}, fmt.Errorf("%w: role %s cannot work for organisation %q", ErrNoRole, role, c.Organisation)
	}
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = c.Subject
	}
	orgName := strings.TrimSpace(c.OrgName)
	if orgName == "" {
		orgName = org.String()
	}
	return User{ID: c.Subject, Name: name, Role: role, Org: org, OrgName: orgName}, nil
}

// FromToken builds the user from a verified token's mapped claims, where
// the role and organisation claims may hold several values, as Entra ID's
// roles array or Keycloak's realm_access.roles do beside roles of their
// own. Exactly one of the values must be a Lantern role, and at most one
// organisation may be given: a person holding two Lantern roles is refused
// rather than given either, since nothing says which they act in.
func FromToken(c oidcauth.Claims) (User, error) {
	var roles []string
	for _, r := range c.Roles {
		if Role(r).Valid() {
			roles = append(roles, r)
		}
	}
	switch {
	case len(roles) == 0:
		return User{}, fmt.Errorf("%w: none of the %d roles in the token is a Lantern role", ErrNoRole, len(c.Roles))
	case len(roles) > 1:
		return User{}, fmt.Errorf("%w: the token holds several Lantern roles (%s)", ErrNoRole, strings.Join(roles, ", "))
	case len(c.Orgs) > 1:
		return User{}, fmt.Errorf("%w: the token names %d organisations", ErrNoRole, len(c.Orgs))
	}
	var org string
	if len(c.Orgs) == 1 {
		org = c.Orgs[0]
	}
	return FromClaims(Claims{Subject: c.Subject, Name: c.Name, Role: roles[0], Organisation: org, OrgName: c.OrgName})
}

// Actor is the user as an event's actor attribute, user:<id>, with any
// character the attribute does not allow replaced so that an identity
// provider's subject format can never make an event invalid. The data of
// the event carries the exact id.
func (u User) Actor() string {
	b := []byte(u.ID)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	return "user:" + string(b)
}

// Person is the user as events record them.
func (u User) Person() events.Person { return events.Person{UserID: u.ID, Role: string(u.Role)} }

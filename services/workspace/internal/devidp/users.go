package devidp

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
)

// User is one sample user of the development identity provider.
type User struct {
	Username         string `json:"username"`
	Password         string `json:"password"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	Organisation     string `json:"organisation,omitempty"`
	OrganisationName string `json:"organisation_name,omitempty"`
	// Featured marks the users of the first local authority (its MASH,
	// its first school, its services) and of the first GP practice, for
	// `make run` to print; the others are in the file.
	Featured bool `json:"featured"`
}

// Claims are the user's claims, as tokens carry them.
func (u User) Claims() identity.Claims {
	return identity.Claims{Subject: "dev:" + u.Username, Name: u.Name, Role: u.Role,
		Organisation: u.Organisation, OrgName: u.OrganisationName}
}

// UsersFile is the file `workspace dev-users` writes and the provider reads.
type UsersFile struct {
	Note  string `json:"note"`
	Users []User `json:"users"`
}

// SampleUsers returns one user per role per organisation in the reference
// data, so that any reference data set, not only the shipped one, has a
// sign-in for every inbox. Passwords are left empty for the caller to fill.
func SampleUsers(set *refdata.Set) []User {
	var out []User
	las := set.LocalAuthorities()
	first := ""
	if len(las) > 0 {
		first = las[0].Code
	}
	for _, la := range las {
		org := identity.Organisation{Kind: events.KindMASH, ID: la.Code}
		name := la.Name + " MASH"
		for _, role := range []identity.Role{identity.RoleMASHWorker, identity.RoleMASHManager} {
			out = append(out, user(strings.ReplaceAll(string(role), "_", "-")+"."+la.Code, role, org, name, la.Code == first))
		}
	}
	out = append(out, schoolUsers(set, first)...)
	out = append(out, serviceUsers(set, first)...)
	for i, p := range set.GPPractices() {
		org := identity.Organisation{Kind: events.KindGP, ID: p.ODSCode}
		out = append(out, user("gp."+p.ODSCode, identity.RoleHealth, org, p.Name, i == 0 && first != ""))
	}
	out = append(out, user("auditor", identity.RoleAuditor, identity.Organisation{}, "", true),
		user("administrator", identity.RoleAdministrator, identity.Organisation{}, "", true))
	return out
}

func schoolUsers(set *refdata.Set, firstLA string) []User {
	var out []User
	featured := false
	for _, s := range set.Schools() {
		kind := events.KindSchool
		if s.Phase == refdata.PhaseNursery {
			kind = events.KindEarlyYears
		}
		feature := !featured && s.LocalAuthorityCode == firstLA
		featured = featured || feature
		out = append(out, user("key-adult."+s.URN, identity.RoleSchoolKeyAdult, identity.Organisation{Kind: kind, ID: s.URN}, s.Name, feature))
	}
	return out
}

// serviceRoles maps each service kind to the role that works its inbox.
var serviceRoles = map[events.RecipientKind]identity.Role{
	events.KindHealthVisiting: identity.RoleHealth, events.KindSchoolNursing: identity.RoleHealth,
	events.KindMidwifery: identity.RoleHealth, events.KindProbation: identity.RoleProbation,
	events.KindMARAC: identity.RoleMARAC, events.KindIDVA: identity.RoleIDVA,
	events.KindHomeEducation: identity.RoleHomeEducation,
}

func serviceUsers(set *refdata.Set, firstLA string) []User {
	var out []User
	for _, s := range set.Services() {
		role, ok := serviceRoles[s.Kind]
		if !ok && !events.IsBuiltinKind(s.Kind) {
			role, ok = identity.RolePartnerService, true
		}
		if !ok {
			continue
		}
		feature := s.LocalAuthorityCode == firstLA
		username := strings.ReplaceAll(string(s.Kind), "_", "-") + "." + s.LocalAuthorityCode
		out = append(out, user(username, role, identity.Organisation{Kind: s.Kind, ID: s.LocalAuthorityCode}, s.Name, feature))
	}
	return out
}

func user(username string, role identity.Role, org identity.Organisation, orgName string, featured bool) User {
	name := role.Label()
	if orgName != "" {
		name += ", " + orgName
	}
	return User{Username: strings.ToLower(username), Name: name, Role: string(role), Organisation: org.String(),
		OrganisationName: orgName, Featured: featured}
}

// GenerateUsersFile writes the sample users of the reference data in
// referenceDir to path. A user already in the file keeps their password,
// so sign-ins noted from one run keep working on the next.
func GenerateUsersFile(referenceDir, path string) (UsersFile, error) {
	set, err := refdata.Load(referenceDir)
	if err != nil {
		return UsersFile{}, fmt.Errorf("loading reference data: %w", err)
	}
	previous := map[string]string{}
	if old, err := LoadUsers(path); err == nil {
		for _, u := range old.Users {
			previous[u.Username] = u.Password
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return UsersFile{}, err
	}
	f := UsersFile{Note: "Sample users of Lantern's development identity provider (LANTERN_DEV_IDP=true). Development only.",
		Users: SampleUsers(set)}
	for i := range f.Users {
		f.Users[i].Password = previous[f.Users[i].Username]
		if f.Users[i].Password == "" {
			if f.Users[i].Password, err = newPassword(); err != nil {
				return UsersFile{}, err
			}
		}
	}
	return f, writeUsers(path, f)
}

func writeUsers(path string, f UsersFile) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding users: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating folder for %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}

// LoadUsers reads a users file and checks every user's role and
// organisation, so that a bad file stops the provider at start.
func LoadUsers(path string) (UsersFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return UsersFile{}, fmt.Errorf("reading users file: %w", err)
	}
	var f UsersFile
	if err := json.Unmarshal(data, &f); err != nil {
		return UsersFile{}, fmt.Errorf("reading users file %s: %w", path, err)
	}
	var errs []error
	seen := map[string]bool{}
	for i, u := range f.Users {
		if _, err := identity.FromClaims(u.Claims()); err != nil {
			errs = append(errs, fmt.Errorf("user %d (%s): %w", i+1, u.Username, err))
		}
		if u.Username == "" || u.Password == "" || seen[u.Username] {
			errs = append(errs, fmt.Errorf("user %d: needs a unique username and a password", i+1))
		}
		seen[u.Username] = true
	}
	if err := errors.Join(errs...); err != nil {
		return UsersFile{}, fmt.Errorf("users file %s: %w", path, err)
	}
	return f, nil
}

// passwordAlphabet leaves out letters and digits easily confused.
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating password: %w", err)
	}
	var out []byte
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, passwordAlphabet[int(c)%len(passwordAlphabet)])
	}
	return string(out), nil
}

// Featured returns the featured users, the first of each role first.
func (f UsersFile) Featured() []User {
	var out []User
	for _, u := range f.Users {
		if u.Featured {
			out = append(out, u)
		}
	}
	slices.SortStableFunc(out, func(a, b User) int {
		return slices.Index(identity.Roles(), identity.Role(a.Role)) - slices.Index(identity.Roles(), identity.Role(b.Role))
	})
	return out
}

package identity_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
)

func TestFromClaims(t *testing.T) {
	cases := []struct {
		name    string
		claims  identity.Claims
		want    identity.User
		wantErr bool
	}{
		{"a key adult of a school", identity.Claims{Subject: "s1", Name: "Pat", Role: "school_key_adult", Organisation: "school:118234", OrgName: "Chatham Hill"},
			identity.User{ID: "s1", Name: "Pat", Role: identity.RoleSchoolKeyAdult, Org: identity.Organisation{Kind: events.KindSchool, ID: "118234"}, OrgName: "Chatham Hill"}, false},
		{"a health practitioner of a GP practice, no names", identity.Claims{Subject: "s2", Role: "health", Organisation: "gp:G82001"},
			identity.User{ID: "s2", Name: "s2", Role: identity.RoleHealth, Org: identity.Organisation{Kind: events.KindGP, ID: "G82001"}, OrgName: "gp:G82001"}, false},
		{"an auditor", identity.Claims{Subject: "s3", Name: "Ann", Role: "auditor"},
			identity.User{ID: "s3", Name: "Ann", Role: identity.RoleAuditor}, false},
		{"a home education officer of a local authority", identity.Claims{Subject: "s9", Name: "Hal", Role: "home_education_officer", Organisation: "home_education:E06000035"},
			identity.User{ID: "s9", Name: "Hal", Role: identity.RoleHomeEducation, Org: identity.Organisation{Kind: events.KindHomeEducation, ID: "E06000035"}, OrgName: "home_education:E06000035"}, false},
		{"a home education officer of a school", identity.Claims{Subject: "s10", Role: "home_education_officer", Organisation: "school:118234"}, identity.User{}, true},
		{"an auditor with an organisation", identity.Claims{Subject: "s4", Role: "auditor", Organisation: "mash:E06000035"}, identity.User{}, true},
		{"a key adult of a MASH", identity.Claims{Subject: "s5", Role: "school_key_adult", Organisation: "mash:E06000035"}, identity.User{}, true},
		{"a MASH worker with no organisation", identity.Claims{Subject: "s6", Role: "mash_worker"}, identity.User{}, true},
		{"an unknown role", identity.Claims{Subject: "s7", Role: "admin", Organisation: ""}, identity.User{}, true},
		{"an organisation of unknown kind", identity.Claims{Subject: "s8", Role: "health", Organisation: "hospital:1"}, identity.User{}, true},
		{"no subject", identity.Claims{Role: "auditor"}, identity.User{}, true},
		{"a practitioner of a service the partnership declared", identity.Claims{Subject: "s11", Name: "Dee", Role: "partner_service", Organisation: "domestic_abuse_service:E06000035"},
			identity.User{ID: "s11", Name: "Dee", Role: identity.RolePartnerService, Org: identity.Organisation{Kind: "domestic_abuse_service", ID: "E06000035"}, OrgName: "domestic_abuse_service:E06000035"}, false},
		{"a partnership practitioner at one of the contract's kinds", identity.Claims{Subject: "s12", Role: "partner_service", Organisation: "idva:E06000035"}, identity.User{}, true},
		{"a partnership practitioner with no organisation", identity.Claims{Subject: "s13", Role: "partner_service"}, identity.User{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identity.FromClaims(tc.claims)
			if tc.wantErr {
				if !errors.Is(err, identity.ErrNoRole) {
					t.Fatalf("FromClaims() error = %v, want ErrNoRole", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromClaims() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("FromClaims() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestActorKeepsEventsValid(t *testing.T) {
	cases := map[string]string{"dev:key-adult.118234": "user:dev_key-adult.118234", "auth0|5f2e": "user:auth0_5f2e", "u-1": "user:u-1"}
	for id, want := range cases {
		if got := (identity.User{ID: id}).Actor(); got != want {
			t.Errorf("Actor(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestFromToken(t *testing.T) {
	mash := identity.Organisation{Kind: events.KindMASH, ID: "E06000035"}
	cases := []struct {
		name   string
		claims oidcauth.Claims
		want   identity.User
		ok     bool
	}{
		{"one Lantern role among the provider's own", oidcauth.Claims{Subject: "s1", Name: "Mo",
			Roles: []string{"offline_access", "mash_worker", "uma_authorization"}, Orgs: []string{"mash:E06000035"}, OrgName: "Medway MASH"},
			identity.User{ID: "s1", Name: "Mo", Role: identity.RoleMASHWorker, Org: mash, OrgName: "Medway MASH"}, true},
		{"an auditor", oidcauth.Claims{Subject: "s2", Roles: []string{"auditor"}},
			identity.User{ID: "s2", Name: "s2", Role: identity.RoleAuditor}, true},
		{"no Lantern role", oidcauth.Claims{Subject: "s3", Roles: []string{"offline_access"}}, identity.User{}, false},
		{"no roles at all", oidcauth.Claims{Subject: "s4"}, identity.User{}, false},
		{"two Lantern roles", oidcauth.Claims{Subject: "s5", Roles: []string{"mash_worker", "mash_manager"},
			Orgs: []string{"mash:E06000035"}}, identity.User{}, false},
		{"two organisations", oidcauth.Claims{Subject: "s6", Roles: []string{"mash_worker"},
			Orgs: []string{"mash:E06000035", "mash:E06000036"}}, identity.User{}, false},
		{"a role with the wrong kind of organisation", oidcauth.Claims{Subject: "s7", Roles: []string{"mash_worker"},
			Orgs: []string{"school:118234"}}, identity.User{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identity.FromToken(tc.claims)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, identity.ErrNoRole)) {
				t.Fatalf("error %v, want ok=%v", err, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
}

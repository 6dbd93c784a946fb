package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/oidctest"
	wsconfig "github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/devidp"
)

// claimShapes are the ways a council's identity provider sends Lantern's
// role and organisation, each mapped by configuration alone.
var claimShapes = []struct {
	name                    string
	roleClaim, orgClaim     string
	orgNameClaim            string
	worker, auditor, nobody map[string]any
	twoRoles, twoOrgs       map[string]any
}{
	{
		// Entra ID: app roles in the roles array, the organisation in a
		// directory extension attribute.
		name: "Entra ID", roleClaim: "roles", orgClaim: "extn.lanternOrganisation", orgNameClaim: "extn.lanternOrganisationName",
		worker: map[string]any{"roles": []any{"mash_worker"}, "extn.lanternOrganisation": "mash:E06000035",
			"extn.lanternOrganisationName": "Medway MASH"},
		auditor:  map[string]any{"roles": []any{"auditor"}},
		nobody:   map[string]any{"roles": []any{"Directory.Reader"}},
		twoRoles: map[string]any{"roles": []any{"auditor", "administrator"}},
		twoOrgs:  map[string]any{"roles": []any{"mash_worker"}, "extn.lanternOrganisation": []any{"mash:E06000035", "mash:E06000036"}},
	},
	{
		// Keycloak: realm roles nested under realm_access beside
		// Keycloak's own, and a multivalued user attribute as an array.
		name: "Keycloak", roleClaim: "realm_access.roles", orgClaim: "lantern.organisation", orgNameClaim: "lantern.organisation_name",
		worker: map[string]any{"realm_access": map[string]any{"roles": []any{"default-roles-council", "offline_access", "mash_worker"}},
			"lantern": map[string]any{"organisation": []any{"mash:E06000035"}, "organisation_name": "Medway MASH"}},
		auditor:  map[string]any{"realm_access": map[string]any{"roles": []any{"offline_access", "auditor"}}},
		nobody:   map[string]any{"realm_access": map[string]any{"roles": []any{"offline_access", "uma_authorization"}}},
		twoRoles: map[string]any{"realm_access": map[string]any{"roles": []any{"mash_worker", "mash_manager"}}, "lantern": map[string]any{"organisation": "mash:E06000035"}},
		twoOrgs: map[string]any{"realm_access": map[string]any{"roles": []any{"mash_worker"}},
			"lantern": map[string]any{"organisation": []any{"mash:E06000035", "mash:E06000036"}}},
	},
}

// TestAnIndependentProvider signs in and calls the API with tokens from
// zitadel's OpenID provider, configured as a council's Entra ID or
// Keycloak would send its claims, with nothing of Lantern's development
// provider involved.
func TestAnIndependentProvider(t *testing.T) {
	for _, shape := range claimShapes {
		t.Run(shape.name, func(t *testing.T) {
			var idp *oidctest.Provider
			b := setupWith(t, func(cfg *wsconfig.Config, public string, _ devidp.UsersFile, c *clock.Fake) {
				c.Set(time.Now())
				idp = oidctest.Start(t, oidctest.Options{ClientID: "lantern-workspace", ClientSecret: "workspace-secret",
					Audience: "api://lantern", RedirectURIs: []string{public + "/auth/callback"}, Users: []oidctest.User{
						{Subject: "worker", Name: "Mo Worker", Claims: shape.worker},
						{Subject: "auditor", Name: "Ann Auditor", Claims: shape.auditor},
						{Subject: "nobody", Name: "No Role", Claims: shape.nobody},
						{Subject: "two-roles", Name: "Two Roles", Claims: shape.twoRoles},
						{Subject: "two-orgs", Name: "Two Orgs", Claims: shape.twoOrgs},
					}})
				cfg.DevIdP, cfg.DevUsersFile = false, ""
				cfg.OIDCIssuer, cfg.OIDCClientSecret, cfg.OIDCAudience = idp.Issuer(), "workspace-secret", "api://lantern"
				cfg.RoleClaim, cfg.OrgClaim, cfg.OrgNameClaim = shape.roleClaim, shape.orgClaim, shape.orgNameClaim
			})
			if got := signInThrough(t, b, idp, "worker"); got.status != http.StatusOK || !strings.Contains(got.body, "Medway MASH") {
				t.Errorf("the MASH worker's queue after sign-in: %d", got.status)
			}
			if got := signInThrough(t, b, idp, "auditor"); got.status != http.StatusOK {
				t.Errorf("the auditor's page after sign-in: %d", got.status)
			}
			for _, who := range []string{"nobody", "two-roles", "two-orgs"} {
				if got := signInThrough(t, b, idp, who); got.status != http.StatusBadRequest {
					t.Errorf("sign-in of %s: %d, want 400", who, got.status)
				}
			}

			access, id := idp.Tokens(t, "worker")
			r := b.api(access, http.MethodGet, "/v1/workspace/me", "")
			var me struct{ Role, Organisation string }
			_ = json.Unmarshal([]byte(r.body), &me)
			if r.status != http.StatusOK || me.Role != "mash_worker" || me.Organisation != "mash:E06000035" {
				t.Errorf("the API with the provider's access token: %d %s", r.status, r.body)
			}
			if r := b.api(id, http.MethodGet, "/v1/workspace/me", ""); r.status != http.StatusUnauthorized {
				t.Errorf("the API with the provider's ID token, which carries the API's audience: %d, want 401", r.status)
			}
			for _, who := range []string{"nobody", "two-roles"} {
				access, _ := idp.Tokens(t, who)
				if r := b.api(access, http.MethodGet, "/v1/workspace/me", ""); r.status != http.StatusUnauthorized {
					t.Errorf("the API for %s: %d, want 401", who, r.status)
				}
			}
		})
	}
}

// signInThrough signs in at the independent provider with a fresh browser
// and returns the page the workspace lands it on.
func signInThrough(t *testing.T, b *bundle, idp *oidctest.Provider, username string) response {
	t.Helper()
	client := &http.Client{Jar: newJar()}
	form, err := client.Get(b.url + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	form.Body.Close()
	resp, err := idp.SignIn(client, form, username)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(body), header: resp.Header}
}

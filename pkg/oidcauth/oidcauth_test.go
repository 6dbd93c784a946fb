package oidcauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/pkg/oidctest"
)

// Entra ID sends app roles as a "roles" array; Keycloak nests realm roles
// under realm_access.roles, beside roles of its own, and a group attribute
// mapper sends a multivalued attribute as an array.
var (
	entra = oidcauth.ClaimNames{Role: "roles", Org: "extension_lanternOrganisation", OrgName: "extension_lanternOrganisationName"}
	keycl = oidcauth.ClaimNames{Role: "realm_access.roles", Org: "lantern.org", OrgName: "lantern.org_name"}
)

func provider(t *testing.T) *oidctest.Provider {
	return oidctest.Start(t, oidctest.Options{ClientID: "lantern-workspace", ClientSecret: "s3cret", Audience: "lantern-api",
		Users: []oidctest.User{
			{Subject: "aud-1", Name: "Ann Auditor", Claims: map[string]any{"roles": []any{"auditor"}}},
			{Subject: "mash-1", Name: "Mo Worker", Claims: map[string]any{
				"realm_access": map[string]any{"roles": []any{"offline_access", "uma_authorization", "mash_worker"}},
				"lantern":      map[string]any{"org": []any{"mash:E06000035"}, "org_name": "Medway MASH"}}},
			{Subject: "sch-1", Name: "Sam School", Claims: map[string]any{
				"roles": "school_key_adult", "extension_lanternOrganisation": "school:118234",
				"extension_lanternOrganisationName": "Example Primary"}},
		}})
}

func issuer(p *oidctest.Provider, names oidcauth.ClaimNames, audience string, c clock.Clock) *oidcauth.Issuer {
	return oidcauth.New(oidcauth.Options{Issuer: p.Issuer(), Audience: audience, Claims: names, Clock: c})
}

func TestAccessTokensOfAnIndependentProvider(t *testing.T) {
	p := provider(t)
	cases := []struct {
		user  string
		names oidcauth.ClaimNames
		want  oidcauth.Claims
	}{
		{"aud-1", entra, oidcauth.Claims{Subject: "aud-1", Name: "Ann Auditor", Roles: []string{"auditor"}}},
		{"sch-1", entra, oidcauth.Claims{Subject: "sch-1", Name: "Sam School", Roles: []string{"school_key_adult"},
			Orgs: []string{"school:118234"}, OrgName: "Example Primary"}},
		{"mash-1", keycl, oidcauth.Claims{Subject: "mash-1", Name: "Mo Worker",
			Roles: []string{"offline_access", "uma_authorization", "mash_worker"}, Orgs: []string{"mash:E06000035"}, OrgName: "Medway MASH"}},
	}
	for _, tc := range cases {
		t.Run(tc.user, func(t *testing.T) {
			access, _ := p.Tokens(t, tc.user)
			got, err := issuer(p, tc.names, "lantern-api", clock.System).VerifyAccessToken(context.Background(), access)
			if err != nil {
				t.Fatalf("the provider's access token: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokensThatAreNotAccessTokensForThisAPI(t *testing.T) {
	p := provider(t)
	access, id := p.Tokens(t, "aud-1")
	later := clock.NewFake(time.Now().Add(2 * time.Hour))
	cases := []struct {
		name  string
		token string
		iss   *oidcauth.Issuer
		want  error
	}{
		{"an ID token carrying the API's audience", id, issuer(p, entra, "lantern-api", clock.System), oidcauth.ErrNotAccessToken},
		{"an access token for another audience", access, issuer(p, entra, "another-api", clock.System), oidcauth.ErrBadToken},
		{"an expired access token", access, issuer(p, entra, "lantern-api", later), oidcauth.ErrBadToken},
		{"another issuer's token", access, issuer(provider(t), entra, "lantern-api", clock.System), oidcauth.ErrBadToken},
		{"a token cut short", access[:len(access)-8], issuer(p, entra, "lantern-api", clock.System), oidcauth.ErrBadToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.iss.VerifyAccessToken(context.Background(), tc.token)
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTokenTypes signs tokens shaped as each provider shapes its ID and
// access tokens, to show which are taken for access tokens.
func TestTokenTypes(t *testing.T) {
	keys := newKeys(t)
	base := map[string]any{"iss": keys.issuer, "sub": "u-1", "aud": "lantern-api",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name   string
		typ    string
		claims map[string]any
		access bool
	}{
		{"RFC 9068 at+jwt", "at+jwt", with(map[string]any{"client_id": "c", "jti": "1"}), true},
		{"RFC 9068 media type", "application/at+jwt", base, true},
		{"Keycloak access token", "JWT", with(map[string]any{"typ": "Bearer", "scope": "openid profile", "azp": "c"}), true},
		{"Entra ID access token", "JWT", with(map[string]any{"scp": "Audit.Read", "ver": "2.0"}), true},
		{"zitadel access token", "JWT", with(map[string]any{"client_id": "c"}), true},
		{"Keycloak ID token", "JWT", with(map[string]any{"typ": "ID", "azp": "c", "scope": "openid"}), false},
		{"an ID token with a nonce", "JWT", with(map[string]any{"nonce": "n", "client_id": "c"}), false},
		{"an ID token with at_hash", "JWT", with(map[string]any{"at_hash": "h", "scope": "openid"}), false},
		{"an ID token with nothing to tell it by", "JWT", base, false},
		{"a token typed as something else", "logout+jwt", with(map[string]any{"client_id": "c"}), false},
	}
	iss := oidcauth.New(oidcauth.Options{Issuer: keys.issuer, Audience: "lantern-api", Claims: entra})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := iss.VerifyAccessToken(context.Background(), keys.sign(t, tc.typ, tc.claims))
			switch {
			case tc.access && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.access && !errors.Is(err, oidcauth.ErrNotAccessToken):
				t.Errorf("got %v, want ErrNotAccessToken", err)
			}
		})
	}
}

func TestBearerHeader(t *testing.T) {
	for header, want := range map[string]error{"": oidcauth.ErrNoToken, "Basic abc": oidcauth.ErrNoToken,
		"Bearer ": oidcauth.ErrNoToken, "Bearer x.y.z": nil, "bearer x.y.z": nil} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", header)
		if _, err := oidcauth.BearerToken(r); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", header, err, want)
		}
	}
}

// keys is a minimal issuer: discovery and a key set, for tokens a test
// shapes itself.
type keys struct {
	issuer string
	signer func(typ string) jose.Signer
}

func newKeys(t *testing.T) keys {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks",
			"authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"ES256"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	srv.Config.Handler = mux
	return keys{issuer: srv.URL, signer: func(typ string) jose.Signer {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
			(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}}
}

func (k keys) sign(t *testing.T, typ string, claims map[string]any) string {
	t.Helper()
	raw, err := jwt.Signed(k.signer(typ)).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

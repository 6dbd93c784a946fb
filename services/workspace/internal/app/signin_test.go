package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	wsconfig "github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/devidp"
)

// externalIssuer runs an OpenID Connect provider at an address of its own
// and points the workspace at it by configuration, as a real issuer would
// be: discovery, keys and tokens all travel over HTTP.
func externalIssuer(t *testing.T) configure {
	return func(cfg *wsconfig.Config, public string, users devidp.UsersFile, c *clock.Fake) {
		idp := httptest.NewUnstartedServer(nil)
		issuer := "http://" + idp.Listener.Addr().String() + devidp.Prefix
		p, err := devidp.New(devidp.Options{Issuer: issuer, ClientID: "lantern-workspace", Audience: "lantern-api",
			RedirectURIs: []string{public + "/auth/callback"}, Users: users.Users, Clock: c})
		if err != nil {
			t.Fatalf("starting the provider: %v", err)
		}
		idp.Config.Handler = p.Handler()
		idp.Start()
		t.Cleanup(idp.Close)
		cfg.DevIdP, cfg.DevUsersFile, cfg.OIDCIssuer, cfg.OIDCAudience = false, "", issuer, "lantern-api"
	}
}

func TestSignInWithAConfiguredIssuer(t *testing.T) {
	b := setupWith(t, externalIssuer(t))
	if r := b.api("", http.MethodGet, "/dev-idp/.well-known/openid-configuration", ""); r.status != http.StatusNotFound {
		t.Errorf("the workspace serves a development provider of its own: %d", r.status)
	}
	issuer := issuerOf(t, b)
	br := b.signInAt(issuer, "mash-worker.e06000035")
	if r := br.get("/mash"); r.status != http.StatusOK {
		t.Errorf("queue after sign-in: %d", r.status)
	}
	token := b.tokenAt(issuer, "mash-worker.e06000035")
	if r := b.api(token, http.MethodGet, "/v1/workspace/me", ""); r.status != http.StatusOK {
		t.Errorf("API with the issuer's token: %d %s", r.status, r.body)
	}
}

func TestBearerTokensThatMustNotWork(t *testing.T) {
	b := setup(t)
	good := b.token("key-adult.118234")
	otherIssuer := setupWith(t, externalIssuer(t))
	foreign := otherIssuer.tokenAt(issuerOf(t, otherIssuer), "key-adult.118234")
	cases := []struct {
		name   string
		header string
		later  time.Duration
	}{
		{"no token", "", 0},
		{"not a JWT", "Bearer not-a-token", 0},
		{"another issuer's token", "Bearer " + foreign, 0},
		{"an expired token", "Bearer " + good, 2 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b.clock.Set(start.Add(tc.later))
			req, _ := http.NewRequest(http.MethodGet, b.url+"/v1/workspace/notices", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			r := b.do(http.DefaultClient, req)
			if r.status != http.StatusUnauthorized {
				t.Errorf("status %d, want 401: %s", r.status, r.body)
			}
		})
	}
	b.clock.Set(start)
	if r := b.api(good, http.MethodGet, "/v1/workspace/notices", ""); r.status != http.StatusOK {
		t.Errorf("the good token: %d", r.status)
	}
}

func TestSignInRefusesAStateFromAnotherBrowser(t *testing.T) {
	b := setup(t)
	// A sign-in started in one browser...
	one := noRedirects(&http.Client{Jar: newJar()})
	resp, err := one.Get(b.url + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	target, _ := url.Parse(resp.Header.Get("Location"))
	// ...cannot be completed by another, which holds no binding cookie.
	r := b.api("", http.MethodGet, "/auth/callback?code=x&state="+url.QueryEscape(target.Query().Get("state")), "")
	if r.status != http.StatusBadRequest {
		t.Errorf("callback from another browser: %d, want 400", r.status)
	}
}

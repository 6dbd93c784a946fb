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

// TestSessionEndsWhenIdleAndAtItsEnd shows the two limits of a session:
// used every 29 minutes it lasts until its absolute expiry, and left alone
// for more than the idle timeout it ends at once.
func TestSessionEndsWhenIdleAndAtItsEnd(t *testing.T) {
	b := setup(t)
	signedIn := func(br *browser) bool {
		t.Helper()
		r := br.get("/mash")
		if r.status != http.StatusOK && r.status != http.StatusSeeOther {
			t.Fatalf("queue: %d", r.status)
		}
		return r.status == http.StatusOK
	}
	busy := b.signIn("mash-worker.e06000035")
	for used := time.Duration(0); used+29*time.Minute < 8*time.Hour; used += 29 * time.Minute {
		b.clock.Advance(29 * time.Minute)
		if !signedIn(busy) {
			t.Fatalf("a session in use ended after %v", used+29*time.Minute)
		}
	}
	b.clock.Set(start.Add(8 * time.Hour))
	if signedIn(busy) {
		t.Error("a session in use outlived its absolute expiry")
	}

	b.clock.Set(start)
	idle := b.signIn("mash-worker.e06000035")
	b.clock.Advance(29 * time.Minute)
	if !signedIn(idle) {
		t.Fatal("the session ended before its idle timeout")
	}
	b.clock.Advance(30*time.Minute + time.Second)
	if signedIn(idle) {
		t.Error("a session left unused for more than 30 minutes still works")
	}
	b.clock.Advance(-30 * time.Minute)
	if signedIn(idle) {
		t.Error("an idle session came back to life")
	}
}

// TestSignInReturnsOnlyToThisSite signs in from addresses an attacker
// crafts and checks where the browser is sent back to.
func TestSignInReturnsOnlyToThisSite(t *testing.T) {
	b := setup(t)
	for _, next := range []string{"%2F%09%2Fevil.example", "/%09/evil.example", "/%0D/evil.example",
		"/%0A/evil.example", "/%5Cevil.example", "/%255C%255Cevil.example", "//evil.example"} {
		if got := b.returnAfterSignIn(next, "mash-worker.e06000035"); got != "/mash" {
			t.Errorf("next=%s sent the browser to %q, want the worker's home page /mash", next, got)
		}
	}
	if got := b.returnAfterSignIn(url.QueryEscape("/inbox?page=2"), "mash-worker.e06000035"); got != "/inbox?page=2" {
		t.Errorf("a page of this site was not returned to: %q", got)
	}
}

// returnAfterSignIn signs in from /signin?next=RAW and returns where the
// callback sends the browser.
func (b *bundle) returnAfterSignIn(rawNext, username string) string {
	b.t.Helper()
	var back string
	client := &http.Client{Jar: newJar(), CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if prev := via[len(via)-1]; prev.URL.Path == "/auth/callback" {
			back = req.Response.Header.Get("Location")
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := client.Get(b.url + "/signin?next=" + rawNext)
	if err != nil {
		b.t.Fatal(err)
	}
	form := readForm(b.t, resp)
	u := b.user(username)
	form.Set("username", u.Username)
	form.Set("password", u.Password)
	resp, err = client.PostForm(b.url+"/dev-idp/authorize", form)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	if back == "" {
		b.t.Fatalf("next=%s: the sign-in never came back through the callback (%d)", rawNext, resp.StatusCode)
	}
	return back
}

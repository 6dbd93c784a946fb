package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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
	good, idToken := b.tokens("key-adult.118234")
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
		{"the ID token of the same sign-in", "Bearer " + idToken, 0},
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

// TestHTTPSPublicAddressHardensCookies serves the workspace as if behind
// TLS (LANTERN_PUBLIC_URL https, the development provider forced) and
// follows the sign-in by hand, since a cookie jar withholds Secure cookies
// from the plain http the test talks: every answer carries HSTS, the
// sign-in cookie is __Secure- and the session cookie __Host-.
func TestHTTPSPublicAddressHardensCookies(t *testing.T) {
	b := setupWith(t, func(cfg *wsconfig.Config, public string, _ devidp.UsersFile, _ *clock.Fake) {
		cfg.PublicURL, cfg.DevIdPForce = strings.Replace(public, "http://", "https://", 1), true
	})
	plain := func(s string) string { return strings.Replace(s, "https://", "http://", 1) }
	client := noRedirects(&http.Client{})
	resp, err := client.Get(b.url + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantHSTS(t, resp)
	binding := wantCookie(t, resp, "__Secure-lantern_signin", "/auth")
	resp, err = http.Get(plain(resp.Header.Get("Location")))
	if err != nil {
		t.Fatal(err)
	}
	formCookies := resp.Cookies()
	form := readForm(t, resp)
	u := b.user("mash-worker.e06000035")
	form.Set("username", u.Username)
	form.Set("password", u.Password)
	req, _ := http.NewRequest(http.MethodPost, b.url+"/dev-idp/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range formCookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, plain(resp.Header.Get("Location")), nil)
	req.AddCookie(binding)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	wantHSTS(t, resp)
	session := wantCookie(t, resp, "__Host-lantern_session", "/")
	req, _ = http.NewRequest(http.MethodGet, b.url+"/mash", nil)
	req.AddCookie(session)
	if r := b.do(client, req); r.status != http.StatusOK {
		t.Errorf("queue with the __Host- session cookie: %d", r.status)
	}
	req, _ = http.NewRequest(http.MethodGet, b.url+"/mash", nil)
	req.AddCookie(&http.Cookie{Name: "lantern_session", Value: session.Value})
	if r := b.do(client, req); r.status != http.StatusSeeOther {
		t.Errorf("the session under its plain http name still works: %d", r.status)
	}
}

func wantHSTS(t *testing.T, resp *http.Response) {
	t.Helper()
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
		t.Errorf("%s: Strict-Transport-Security %q", resp.Request.URL.Path, got)
	}
}

// wantCookie finds a cookie set by resp and checks the attributes its
// prefix demands: Secure, HttpOnly, the path, and no Domain.
func wantCookie(t *testing.T, resp *http.Response, name, path string) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name != name {
			continue
		}
		if !c.Secure || !c.HttpOnly || c.Path != path || c.Domain != "" {
			t.Errorf("cookie %s: Secure %v HttpOnly %v Path %q Domain %q", name, c.Secure, c.HttpOnly, c.Path, c.Domain)
		}
		return &http.Cookie{Name: c.Name, Value: c.Value}
	}
	t.Fatalf("%s set no cookie %s: %v", resp.Request.URL.Path, name, resp.Header.Values("Set-Cookie"))
	return nil
}

// TestPlainHTTPDevelopmentHasNoHSTS keeps make run usable at
// http://127.0.0.1: no HSTS, which would lock the browser out of it, and
// cookie names without the prefixes that demand Secure.
func TestPlainHTTPDevelopmentHasNoHSTS(t *testing.T) {
	b := setup(t)
	resp, err := noRedirects(&http.Client{}).Get(b.url + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS over plain http: %q", got)
	}
	if cs := resp.Cookies(); len(cs) != 1 || cs[0].Name != "lantern_signin" || cs[0].Secure {
		t.Errorf("sign-in cookies over plain http: %v", resp.Header.Values("Set-Cookie"))
	}
}

// TestSignInRateLimits runs the workspace with a limit of three a minute:
// a fourth sign-in from one address, or a fourth password tried for one
// user at the development provider's token endpoint, is answered 429 with
// Retry-After, while other addresses and users go on.
func TestSignInRateLimits(t *testing.T) {
	b := setupWith(t, func(cfg *wsconfig.Config, _ string, _ devidp.UsersFile, _ *clock.Fake) { cfg.SignInRateLimit = 3 })
	client := noRedirects(&http.Client{})
	start := func(from string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, b.url+"/signin", nil)
		req.Header.Set("X-Forwarded-For", from)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for range 3 {
		if resp := start("192.0.2.1"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a sign-in within the limit: %d", resp.StatusCode)
		}
	}
	over := start("192.0.2.1")
	if over.StatusCode != http.StatusTooManyRequests || over.Header.Get("Content-Type") != "application/problem+json" ||
		over.Header.Get("Retry-After") != "20" {
		t.Errorf("the 4th sign-in: %d %s Retry-After %q", over.StatusCode, over.Header.Get("Content-Type"), over.Header.Get("Retry-After"))
	}
	if resp := start("192.0.2.2"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another address while the first is limited: %d", resp.StatusCode)
	}
	b.clock.Advance(20 * time.Second)
	if resp := start("192.0.2.1"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after Retry-After: %d", resp.StatusCode)
	}

	guess := func(username string) *http.Response {
		t.Helper()
		resp, err := http.PostForm(b.url+"/dev-idp/token", url.Values{"grant_type": {"password"},
			"client_id": {"lantern-workspace"}, "username": {username}, "password": {"guess"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for range 3 {
		if resp := guess("auditor"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("a wrong password within the limit: %d", resp.StatusCode)
		}
	}
	if resp := guess("auditor"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("the 4th password for one user: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := guess("mash-worker.e06000035"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("another user while the first is limited: %d", resp.StatusCode)
	}
}

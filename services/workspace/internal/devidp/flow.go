package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/httpjson"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
)

// formCookie binds the sign-in form to the browser that loaded it, so that
// another site cannot post a sign-in on a person's behalf.
const formCookie = "lantern_devidp_form"

// authRequest is what the client asked for, carried through the form.
type authRequest struct {
	ClientID, RedirectURI, State, Nonce, Challenge, Method, Scope string
}

func readAuthRequest(v url.Values) authRequest {
	return authRequest{ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), State: v.Get("state"),
		Nonce: v.Get("nonce"), Challenge: v.Get("code_challenge"), Method: v.Get("code_challenge_method"),
		Scope: v.Get("scope")}
}

// check refuses a request the provider must not redirect for: an unknown
// client or a redirect address it does not know.
func (p *Provider) check(r authRequest) string {
	switch {
	case r.ClientID != p.o.ClientID:
		return "This sign-in was started by an unknown client."
	case !slices.Contains(p.o.RedirectURIs, r.RedirectURI):
		return "This sign-in asks to return to an address the provider does not know."
	case r.Challenge == "" || r.Method != "S256":
		return "This sign-in has no PKCE challenge (S256 is required)."
	case !slices.Contains(strings.Fields(r.Scope), "openid"):
		return "This sign-in did not ask for the openid scope."
	}
	return ""
}

type formPage struct {
	Request   authRequest
	FormToken string
	Groups    []userGroup
	Selected  string
	Problem   string
}

type userGroup struct {
	Label string
	Users []User
}

func (p *Provider) groups() []userGroup {
	var out []userGroup
	for _, role := range identity.Roles() {
		g := userGroup{Label: role.Label()}
		for _, u := range p.o.Users {
			if u.Role == string(role) {
				g.Users = append(g.Users, u)
			}
		}
		if len(g.Users) > 0 {
			out = append(out, g)
		}
	}
	return out
}

func (p *Provider) authorizeForm(w http.ResponseWriter, r *http.Request) {
	req := readAuthRequest(r.URL.Query())
	if msg := p.check(req); msg != "" {
		p.renderForm(w, http.StatusBadRequest, formPage{Problem: msg})
		return
	}
	token, err := randomString(24)
	if err != nil {
		http.Error(w, "could not start the sign-in", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: token, Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: strings.HasPrefix(p.o.Issuer, "https://"), MaxAge: 900})
	p.renderForm(w, http.StatusOK, formPage{Request: req, FormToken: token, Groups: p.groups()})
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	req := readAuthRequest(r.PostForm)
	if msg := p.check(req); msg != "" {
		p.renderForm(w, http.StatusBadRequest, formPage{Problem: msg})
		return
	}
	cookie, err := r.Cookie(formCookie)
	formToken := r.PostForm.Get("form_token")
	if err != nil || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(formToken)) != 1 {
		p.renderForm(w, http.StatusForbidden, formPage{Problem: "This form has expired. Go back to Lantern and sign in again."})
		return
	}
	username := r.PostForm.Get("username")
	u, ok := p.userByName(username, r.PostForm.Get("password"))
	if !ok {
		p.renderForm(w, http.StatusUnauthorized, formPage{Request: req, FormToken: formToken, Groups: p.groups(),
			Selected: username, Problem: "The user or the password is not right. The passwords are in .lantern/dev-credentials.json."})
		return
	}
	code, err := randomString(32)
	if err != nil {
		http.Error(w, "could not finish the sign-in", http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	p.codes[code] = grant{user: u, clientID: req.ClientID, redirectURI: req.RedirectURI, nonce: req.Nonce,
		challenge: req.Challenge, expires: p.o.Clock.Now().Add(codeLifetime)}
	p.mu.Unlock()
	back, _ := url.Parse(req.RedirectURI)
	q := back.Query()
	q.Set("code", code)
	q.Set("state", req.State)
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	if r.PostForm.Get("client_id") != p.o.ClientID {
		if id, _, ok := r.BasicAuth(); !ok || id != p.o.ClientID {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client")
			return
		}
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		p.exchangeCode(w, r)
	case "password":
		p.passwordGrant(w, r)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "use authorization_code or password")
	}
}

// takeCode returns a code's grant and forgets it: a code is good once.
func (p *Provider) takeCode(code string) (grant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.codes[code]
	delete(p.codes, code)
	for c, other := range p.codes {
		if p.o.Clock.Now().After(other.expires) {
			delete(p.codes, c)
		}
	}
	return g, ok && !p.o.Clock.Now().After(g.expires)
}

func (p *Provider) exchangeCode(w http.ResponseWriter, r *http.Request) {
	g, ok := p.takeCode(r.PostForm.Get("code"))
	if !ok || g.redirectURI != r.PostForm.Get("redirect_uri") {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown, used or expired")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the PKCE verifier does not match")
		return
	}
	p.issue(w, g.user, g.nonce)
}

// passwordGrant gives a sample user an access token for the API without a
// browser. It exists only in this development provider.
func (p *Provider) passwordGrant(w http.ResponseWriter, r *http.Request) {
	u, ok := p.userByName(r.PostForm.Get("username"), r.PostForm.Get("password"))
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the user or the password is not right")
		return
	}
	p.issue(w, u, "")
}

func (p *Provider) issue(w http.ResponseWriter, u User, nonce string) {
	idToken, err := p.signID(u, nonce)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "could not sign a token")
		return
	}
	access, err := p.signAccess(u)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "could not sign a token")
		return
	}
	_ = httpjson.Write(w, http.StatusOK, map[string]any{"access_token": access, "id_token": idToken,
		"token_type": "Bearer", "expires_in": int(tokenLifetime.Seconds())})
}

func (p *Provider) renderForm(w http.ResponseWriter, status int, page formPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+formActionTargets(p.o.RedirectURIs)+"; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_ = formTemplate.Execute(w, page)
}

// formActionTargets lists the origins the form's redirect may go to, which
// browsers check against form-action.
func formActionTargets(uris []string) string {
	var origins []string
	for _, raw := range uris {
		if u, err := url.Parse(raw); err == nil {
			origins = append(origins, u.Scheme+"://"+u.Host)
		}
	}
	return strings.Join(origins, " ")
}

var formTemplate = template.Must(template.New("form").Parse(`<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in – Lantern development identity provider</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#0b0c0c;background:#f3f2f1;line-height:1.5}
main{max-width:34rem;margin:0 auto;padding:1.5rem 1rem;background:#fff;min-height:100vh}
h1{font-size:1.6rem;margin-top:0}
label{display:block;font-weight:700;margin-top:1rem}
select,input{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;border:2px solid #0b0c0c;margin-top:.25rem}
button{font:inherit;font-weight:700;margin-top:1.5rem;padding:.6rem 1.2rem;background:#00703c;color:#fff;border:0;box-shadow:0 2px 0 #002d18;cursor:pointer}
select:focus,input:focus,button:focus{outline:3px solid #fd0;outline-offset:0}
.notice{border-left:5px solid #1d70b8;padding:.5rem 1rem;background:#f3f8fc}
.problem{border:4px solid #d4351c;padding:.75rem 1rem;color:#0b0c0c}
</style>
</head>
<body>
<main>
<h1>Sign in to Lantern</h1>
<p class="notice">This is Lantern's <strong>development</strong> identity provider. Its sample users and their passwords are in <code>.lantern/dev-credentials.json</code>.</p>
{{if .Problem}}<div class="problem" role="alert"><p>{{.Problem}}</p></div>{{end}}
{{if .Groups}}
<form method="post" action="authorize">
<input type="hidden" name="client_id" value="{{.Request.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Request.RedirectURI}}">
<input type="hidden" name="state" value="{{.Request.State}}">
<input type="hidden" name="nonce" value="{{.Request.Nonce}}">
<input type="hidden" name="code_challenge" value="{{.Request.Challenge}}">
<input type="hidden" name="code_challenge_method" value="{{.Request.Method}}">
<input type="hidden" name="scope" value="{{.Request.Scope}}">
<input type="hidden" name="form_token" value="{{.FormToken}}">
<label for="username">User</label>
<select id="username" name="username" autocomplete="username">
{{- $selected := .Selected}}
{{- range .Groups}}
<optgroup label="{{.Label}}">
{{- range .Users}}
<option value="{{.Username}}"{{if eq .Username $selected}} selected{{end}}>{{.Username}} – {{if .OrganisationName}}{{.OrganisationName}}{{else}}{{.Name}}{{end}}</option>
{{- end}}
</optgroup>
{{- end}}
</select>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{{end}}
</main>
</body>
</html>
`))

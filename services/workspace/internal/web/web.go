// Package web serves the workspace: server-rendered pages for people in a
// browser and the JSON API behind them, both answering from the same
// casework operations, so that what a page shows and what the API returns
// are authorised, recorded and idempotent in exactly the same way.
package web

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/signin"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options are what the server needs.
type Options struct {
	Cases *casework.Service
	Auth  *signin.Authenticator
	// DevIdP, when set, is the development identity provider's handler,
	// served under /dev-idp/.
	DevIdP http.Handler
	// HTTPS is set when the public address is https: every answer then
	// tells browsers to use nothing else (HSTS).
	HTTPS bool
	// SignInLimit, when set, bounds starting and completing sign-ins for
	// each client address (named by Proxies).
	SignInLimit *ratelimit.Limiter
	Proxies     ratelimit.Proxies
	Log         *zap.Logger
}

// Server is the workspace's HTTP handler.
type Server struct {
	cases *casework.Service
	auth  *signin.Authenticator
	idp   http.Handler
	https bool
	limit *ratelimit.Limiter
	proxy ratelimit.Proxies
	log   *zap.Logger
	pages pages
}

// New returns the server.
func New(o Options) (*Server, error) {
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Server{cases: o.Cases, auth: o.Auth, idp: o.DevIdP, https: o.HTTPS, limit: o.SignInLimit, proxy: o.Proxies, log: o.Log, pages: p}, nil
}

// Handler routes every path the workspace serves.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.apiRoutes(mux)
	s.pageRoutes(mux)
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if s.idp != nil {
		mux.Handle("/dev-idp/", s.idp)
	}
	return securityHeaders(mux, s.https)
}

// securityHeaders keeps pages from being framed, scripted or sniffed, and
// keeps personal data out of referrers. The pages need no script at all. A
// handler may set a policy of its own, as the development provider's form
// does, which replaces this one. Over https, HSTS keeps browsers from ever
// reaching the workspace over plain http, where a session cookie or a
// sign-in could be intercepted.
func securityHeaders(next http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; object-src 'none'; "+
			"frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// statusOf maps an operation's error to its HTTP status.
func statusOf(err error) int {
	var conflict *casework.ConflictError
	var invalid *casework.InvalidError
	switch {
	case errors.Is(err, casework.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, casework.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, casework.ErrUnrecorded), errors.Is(err, casework.ErrAuditUnavailable):
		return http.StatusServiceUnavailable
	case errors.As(err, &conflict):
		return http.StatusConflict
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

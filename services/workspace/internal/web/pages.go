package web

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/identity"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/signin"
)

// pages holds one template set per page, each with the shared layout.
type pages map[string]*template.Template

func parsePages() (pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	out := pages{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", name)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", name, err)
		}
		out[base] = t
	}
	return out, nil
}

var funcs = template.FuncMap{
	"london":      londonTime,
	"channelName": channelName,
	"due":         dueOf,
	"span":        duration,
	"date":        longDate,
	"ageOn":       ageOn,
	"decision":    notice.DecisionLabel,
	"flag":        notice.FlagLabel,
	"title":       titleWord,
	"join":        strings.Join,
	"yesNo":       yesNo,
	"anchor":      func(pointer string) string { return "field-" + strings.TrimPrefix(pointer, "/") },
	"roleOf":      func(s string) string { return identity.Role(s).Label() },
	"mashOnly":    func(u identity.User) bool { return u.Role.IsMASH() },
	"manager":     func(u identity.User) bool { return authz.ManagesClaims(u.Role) },
	"can":         func(u identity.User, a string) bool { return authz.Permits(u.Role, authz.Action(a)) },
	"isSchool":    func(u identity.User) bool { return u.Role == identity.RoleSchoolKeyAdult },
	"decisions": func() []string {
		return notice.Decisions()
	},
	"rags":      func() []string { return []string{events.RAGRed, events.RAGAmber, events.RAGGreen} },
	"percent":   percent,
	"seconds":   seconds,
	"londonPtr": londonPtr,
	"outcome":   outcomeLabel,
	"met":       metLabel,
	"step":      stepLabel,
	"kind":      kindLabel,
	"labelled":  labelled,
	"period":    periodOf,
}

// labelledRows gives a partial its rows and the accessible name of the
// region that holds them, which must differ between regions of a page.
type labelledRows struct {
	Label string
	Rows  any
}

func labelled(label string, rows any) labelledRows { return labelledRows{Label: label, Rows: rows} }

// periodView fills the first and last day fields of a form that asks for a
// period; Counted says what the first day counts from, as the page's
// figures count it ("Notices counted").
type periodView struct {
	From, To, Counted string
}

func periodOf(from, to, counted string) periodView {
	return periodView{From: from, To: to, Counted: counted}
}

// dueView is a deadline as a page shows it.
type dueView struct {
	Left    string
	Due     string
	Overdue bool
}

func dueOf(due, now time.Time) dueView {
	return dueView{Left: timeLeft(due, now), Due: londonTime(due), Overdue: due.Before(now)}
}

// yesNo says a recorded yes or no in words.
func yesNo(b *bool) string {
	if b != nil && *b {
		return "Yes"
	}
	return "No"
}

func longDate(s string) string {
	d, err := calendar.ParseDate(s)
	if err != nil {
		return s
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day, 12, 0, 0, 0, time.UTC).Format("2 January 2006")
}

func ageOn(dob string, at time.Time) string {
	age, ok := events.AgeYears(dob, at)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d", age)
}

func titleWord(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// page is what every page template gets.
type page struct {
	Title   string
	Session *signin.Session
	Now     time.Time
	Flash   string
	Problem string
	Errors  []casework.FieldError
	Body    any
}

// render writes a page; a template that fails is logged and answered as
// an error, never half written.
func (s *Server) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("no such page template", zap.String("template", name))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		s.log.Error("rendering page", zap.String("template", name), zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// pageHandler is a page for a signed-in person.
type pageHandler func(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller)

// signedIn sends a person who is not signed in to sign in, and checks the
// CSRF token of every form posted.
func (s *Server) signedIn(h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.auth.Session(r)
		if errors.Is(err, signin.ErrNoSession) {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = "/"
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.log.Error("reading session", zap.Error(err))
			s.errorPage(w, r, nil, http.StatusServiceUnavailable, "Lantern cannot check who you are just now. Try again shortly.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if err := r.ParseForm(); err != nil || !sess.CheckCSRF(r) {
				s.errorPage(w, r, &sess, http.StatusForbidden, "This form has expired. Go back, reload the page and try again.")
				return
			}
		}
		h(w, r, sess, casework.Caller{User: sess.User, Via: events.AccessViaPage})
	})
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, sess *signin.Session, status int, message string) {
	titles := map[int]string{
		http.StatusForbidden: "You cannot use this page", http.StatusNotFound: "Page not found",
		http.StatusConflict: "This could not be done", http.StatusServiceUnavailable: "Sorry, Lantern is unavailable",
		http.StatusBadRequest: "Sign-in failed", http.StatusUnauthorized: "Sign-in failed",
	}
	title, ok := titles[status]
	if !ok {
		title = "Sorry, something went wrong"
	}
	s.render(w, status, "error", page{Title: title, Session: sess, Problem: message, Now: s.cases.Clock().Now()})
}

// pageError shows the page an operation's error calls for.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, sess signin.Session, err error) {
	status := statusOf(err)
	messages := map[int]string{
		http.StatusForbidden: "Your role does not give you access to this page.",
		http.StatusNotFound:  "There is nothing here for your organisation. If you followed a link, check it is complete.",
		http.StatusServiceUnavailable: "Lantern could not record that you are viewing this, so it is not shown. " +
			"Every view of personal data must be recorded. Try again shortly.",
	}
	msg, ok := messages[status]
	if errors.Is(err, casework.ErrAuditUnavailable) {
		msg = "The audit record cannot be read yet: the ledger service has not created it. Try again shortly."
	}
	var conflict *casework.ConflictError
	if errors.As(err, &conflict) {
		msg, ok = conflict.Reason, true
	}
	if !ok {
		s.log.Error("page failed", zap.String("path", r.Pattern), zap.Error(err))
		msg = "Something went wrong. Try again, and if it keeps happening tell your administrator."
	}
	s.errorPage(w, r, &sess, status, msg)
}

// homeFor is where a person's work starts.
func homeFor(u identity.User) string {
	switch {
	case authz.Permits(u.Role, authz.MASHQueue):
		return "/mash"
	case authz.Permits(u.Role, authz.ListNotices):
		return "/inbox"
	case authz.Permits(u.Role, authz.ReadAuditReport):
		return "/audit"
	case authz.Permits(u.Role, authz.ReadOverview):
		return "/overview"
	}
	return "/account"
}

// done turns the outcome of a form into a message for the page it
// returns to.
var done = map[string]string{
	"acknowledged":   "You acknowledged this notice. It is recorded in Lantern's ledger.",
	"already":        "This notice had already been acknowledged; nothing new was recorded.",
	"claimed":        "You are now working this notice. Your colleagues can see that.",
	"released":       "You released this notice for a colleague to pick up.",
	"decided":        "Your decision is recorded and has been sent on.",
	"already-decide": "This decision had already been recorded; nothing new was sent.",
	"signed-out":     "You have signed out.",
}

func redirectDone(w http.ResponseWriter, r *http.Request, path, outcome string) {
	http.Redirect(w, r, path+"?done="+outcome, http.StatusSeeOther)
}

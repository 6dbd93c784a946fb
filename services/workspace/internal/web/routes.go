package web

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/signin"
)

func (s *Server) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.home)
	mux.Handle("GET /signin", s.signInLimited(s.signIn))
	mux.Handle("GET "+signin.CallbackPath, s.signInLimited(s.callback))
	mux.Handle("POST /signout", s.signedIn(s.signOut))
	mux.Handle("GET /account", s.signedIn(s.account))
	mux.Handle("GET /inbox", s.signedIn(s.inbox))
	mux.Handle("GET /notices/{id}", s.signedIn(s.notice))
	mux.Handle("POST /notices/{id}/acknowledge", s.signedIn(s.acknowledge))
	mux.Handle("GET /notices/{id}/record", s.signedIn(s.record))
	mux.Handle("GET /mash", s.signedIn(s.queue))
	mux.Handle("GET /mash/incidents/{id}", s.signedIn(s.incident))
	mux.Handle("POST /mash/incidents/{id}/claim", s.signedIn(s.claim))
	mux.Handle("POST /mash/incidents/{id}/release", s.signedIn(s.release))
	mux.Handle("POST /mash/incidents/{id}/triage", s.signedIn(s.triage))
	mux.Handle("GET /overview", s.signedIn(s.overview))
	mux.Handle("GET /audit", s.signedIn(s.auditReport))
	mux.Handle("GET /audit/export/{format}", s.signedIn(s.auditExport))
	mux.Handle("GET /audit/incidents", s.signedIn(s.auditLookup))
	mux.Handle("GET /audit/incidents/{id}", s.signedIn(s.auditTimeline))
	mux.Handle("GET /audit/disclosures", s.signedIn(s.auditDisclosures))
	mux.Handle("GET /policy/simulate", s.signedIn(s.simulateForm))
	mux.Handle("POST /policy/simulate", s.signedIn(s.simulateRun))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var sess *signin.Session
		if got, err := s.auth.Session(r); err == nil {
			sess = &got
		}
		s.errorPage(w, r, sess, http.StatusNotFound, "There is no page at this address.")
	})
}

// signInLimited bounds each client address's sign-ins: every one stores a
// sign-in in progress and reaches the identity provider.
func (s *Server) signInLimited(h http.HandlerFunc) http.Handler {
	if s.limit == nil {
		return h
	}
	return s.limit.Handler(s.proxy.ClientAddress, h)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	sess, err := s.auth.Session(r)
	if err == nil {
		http.Redirect(w, r, homeFor(sess.User), http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "home", page{Title: "Lantern workspace", Now: s.cases.Clock().Now(),
		Flash: done[r.URL.Query().Get("done")]})
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.Begin(w, r, r.URL.Query().Get("next")); err != nil {
		s.log.Error("starting sign-in", zap.Error(err))
		s.errorPage(w, r, nil, http.StatusServiceUnavailable, "Lantern cannot reach the identity provider just now. Try again shortly.")
	}
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	u, returnTo, err := s.auth.Callback(w, r)
	if errors.Is(err, signin.ErrSignIn) {
		s.log.Warn("sign-in refused", zap.Error(err))
		s.errorPage(w, r, nil, http.StatusBadRequest, "The sign-in could not be completed: it may have expired, "+
			"or your account has no role in Lantern. Go back to the start and sign in again.")
		return
	}
	if err != nil {
		s.log.Error("completing sign-in", zap.Error(err))
		s.errorPage(w, r, nil, http.StatusServiceUnavailable, "Lantern could not complete the sign-in just now. Try again shortly.")
		return
	}
	if returnTo == "/" {
		returnTo = homeFor(u)
	}
	http.Redirect(w, r, returnTo, http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, _ signin.Session, _ casework.Caller) {
	if err := s.auth.SignOut(w, r); err != nil {
		s.log.Warn("ending session", zap.Error(err))
	}
	redirectDone(w, r, "/", "signed-out")
}

func (s *Server) account(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	if err := s.cases.Account(r.Context(), c); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	s.render(w, http.StatusOK, "account", page{Title: "Your account", Session: &sess, Now: s.cases.Clock().Now()})
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	list, err := s.cases.Inbox(r.Context(), c)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	s.render(w, http.StatusOK, "inbox", page{Title: "Notices for " + sess.User.OrgName, Session: &sess,
		Now: s.cases.Clock().Now(), Body: list})
}

func (s *Server) notice(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	v, err := s.cases.Notice(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	s.render(w, http.StatusOK, "notice", page{Title: noticeTitle(v), Session: &sess, Now: s.cases.Clock().Now(),
		Flash: done[r.URL.Query().Get("done")], Body: v})
}

func noticeTitle(v casework.NoticeView) string {
	if names := v.Content.ChildNames(); len(names) > 0 {
		return "Notice about " + joinNames(names)
	}
	return "Notice of " + londonTime(v.OccurredAt)
}

func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	out := names[0]
	for _, n := range names[1 : len(names)-1] {
		out += ", " + n
	}
	return out + " and " + names[len(names)-1]
}

func (s *Server) acknowledge(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	id := r.PathValue("id")
	_, created, err := s.cases.Acknowledge(r.Context(), c, id)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	outcome := "acknowledged"
	if !created {
		outcome = "already"
	}
	redirectDone(w, r, "/notices/"+id, outcome)
}

func (s *Server) record(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	v, err := s.cases.Record(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	s.render(w, http.StatusOK, "record", page{Title: "Safeguarding file record", Session: &sess,
		Now: s.cases.Clock().Now(), Body: v})
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	list, err := s.cases.Queue(r.Context(), c)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	s.render(w, http.StatusOK, "queue", page{Title: "Triage queue", Session: &sess, Now: s.cases.Clock().Now(),
		Flash: done[r.URL.Query().Get("done")], Body: queueRows(list)})
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	counts, err := s.cases.Overview(r.Context(), c)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	s.render(w, http.StatusOK, "overview", page{Title: "Overview", Session: &sess, Now: s.cases.Clock().Now(), Body: counts})
}

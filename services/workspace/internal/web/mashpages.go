package web

import (
	"errors"
	"net/http"

	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/notice"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/signin"
)

// queueRow is one line of the triage queue page.
type queueRow struct {
	casework.NoticeView
	DefaultRAG string
	Flags      []string
}

func queueRows(list []casework.NoticeView) []queueRow {
	out := make([]queueRow, 0, len(list))
	for _, v := range list {
		out = append(out, queueRow{NoticeView: v, DefaultRAG: notice.DefaultRAG(v.Flags, v.Content.Level()),
			Flags: notice.ShownFlags(v.Flags)})
	}
	return out
}

// incidentPage is the incident page: the incident, and the triage form as
// the worker last filled it.
type incidentPage struct {
	casework.IncidentView
	RAGReasons []string
	Flags      []string
	Form       casework.TriageInput
}

func (s *Server) incident(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	s.showIncident(w, r, sess, c, http.StatusOK, page{Flash: done[r.URL.Query().Get("done")]}, nil)
}

// showIncident renders the incident page, with a form to fill again when a
// decision was refused.
func (s *Server) showIncident(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller, status int, p page, form *casework.TriageInput) {
	v, err := s.cases.Incident(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	body := incidentPage{IncidentView: v, RAGReasons: notice.RAGReasons(v.Flags), Flags: notice.ShownFlags(v.Flags),
		Form: casework.TriageInput{RAG: v.DefaultRAG}}
	if form != nil {
		body.Form = *form
	}
	p.Title, p.Session, p.Now, p.Body = "Incident "+v.Content.PoliceReference, &sess, s.cases.Clock().Now(), body
	s.render(w, status, "incident", p)
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	id := r.PathValue("id")
	if _, err := s.cases.Claim(r.Context(), c, id); err != nil {
		s.incidentError(w, r, sess, c, err, nil)
		return
	}
	redirectDone(w, r, "/mash/incidents/"+id, "claimed")
}

func (s *Server) release(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	if err := s.cases.Release(r.Context(), c, r.PathValue("id")); err != nil {
		s.incidentError(w, r, sess, c, err, nil)
		return
	}
	redirectDone(w, r, "/mash", "released")
}

func (s *Server) triage(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	id := r.PathValue("id")
	in := casework.TriageInput{RAG: r.PostFormValue("rag"), RAGReason: r.PostFormValue("rag_reason"),
		Decision: r.PostFormValue("decision")}
	_, created, err := s.cases.Triage(r.Context(), c, id, in)
	if err != nil {
		s.incidentError(w, r, sess, c, err, &in)
		return
	}
	outcome := "decided"
	if !created {
		outcome = "already-decide"
	}
	redirectDone(w, r, "/mash/incidents/"+id, outcome)
}

// incidentError shows the incident again with what went wrong, when the
// problem is one the worker can act on there; otherwise an error page.
func (s *Server) incidentError(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller, err error, form *casework.TriageInput) {
	var invalid *casework.InvalidError
	var conflict *casework.ConflictError
	switch {
	case errors.As(err, &invalid):
		s.showIncident(w, r, sess, c, http.StatusUnprocessableEntity, page{Errors: invalid.Fields}, form)
	case errors.As(err, &conflict):
		s.showIncident(w, r, sess, c, http.StatusConflict, page{Problem: conflict.Reason}, nil)
	default:
		s.pageError(w, r, sess, err)
	}
}

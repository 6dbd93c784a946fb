package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/problem"
	"github.com/lantern-safeguarding/lantern/services/ledger/disclosure"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
	"github.com/lantern-safeguarding/lantern/services/router/simulate"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/casework"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/signin"
)

// auditReport is the report page: the period form and, once the period is
// right, the report for it.
func (s *Server) auditReport(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	if err := s.cases.Permit(r.Context(), c, authz.ReadAuditReport); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	p := page{Title: "Timeliness report", Session: &sess, Now: s.cases.Clock().Now()}
	period, err := casework.ParsePeriod(from, to, p.Now)
	var invalid *casework.InvalidError
	if errors.As(err, &invalid) {
		p.Errors, p.Body = invalid.Fields, newAuditPage(from, to, nil)
		s.render(w, http.StatusBadRequest, "audit", p)
		return
	}
	rep, err := s.cases.AuditReport(r.Context(), c, period)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	p.Body = newAuditPage(rep.From, rep.To, &rep)
	s.render(w, http.StatusOK, "audit", p)
}

// auditExport sends the report for download, in the formats `lantern
// audit report` writes: CSV and JSON for analysis, and the report's own
// self-contained HTML page for a board.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	if err := s.cases.Permit(r.Context(), c, authz.ReadAuditReport); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	format := r.PathValue("format")
	if _, ok := reportFormats[format]; !ok {
		s.errorPage(w, r, &sess, http.StatusNotFound, "The report can be downloaded as CSV, JSON or HTML.")
		return
	}
	period, err := casework.ParsePeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"), s.cases.Clock().Now())
	if err != nil {
		s.errorPage(w, r, &sess, http.StatusBadRequest, "The period to download is not right. Go back to the report and choose it again.")
		return
	}
	rep, err := s.cases.AuditReport(r.Context(), c, period)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	body, err := renderReport(format, rep)
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	writeReport(w, format, rep, body, true)
}

// auditLookup opens the timeline of the incident id typed into the
// report page's form.
func (s *Server) auditLookup(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	if err := s.cases.Permit(r.Context(), c, authz.ReadAuditTimeline); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if id == "" {
		http.Redirect(w, r, "/audit", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/audit/incidents/"+url.PathEscape(id), http.StatusSeeOther)
}

// auditTimeline is one incident's timeline page.
func (s *Server) auditTimeline(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	tl, err := s.cases.AuditTimeline(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	s.render(w, http.StatusOK, "timeline", page{Title: "Incident timeline", Session: &sess,
		Now: s.cases.Clock().Now(), Body: tl})
}

func (s *Server) apiAuditReport(w http.ResponseWriter, r *http.Request, c casework.Caller) {
	if err := s.cases.Permit(r.Context(), c, authz.ReadAuditReport); err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	period, err := casework.ParsePeriod(q.Get("from"), q.Get("to"), s.cases.Clock().Now())
	if fields := queryProblems(err, format); len(fields) > 0 {
		problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid-query", "Invalid query",
			"Correct the query parameters listed.", fields...))
		return
	}
	rep, err := s.cases.AuditReport(r.Context(), c, period)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	body, err := renderReport(format, rep)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeReport(w, format, rep, body, false)
}

// queryProblems names what is wrong with the report's query, each field
// as query:<name>.
func queryProblems(periodErr error, format string) []problem.FieldError {
	var fields []problem.FieldError
	var invalid *casework.InvalidError
	if errors.As(periodErr, &invalid) {
		for _, f := range invalid.Fields {
			fields = append(fields, problem.FieldError{Pointer: "query:" + strings.TrimPrefix(f.Pointer, "/"), Detail: f.Detail})
		}
	}
	if _, ok := reportFormats[format]; !ok {
		fields = append(fields, problem.FieldError{Pointer: "query:format", Detail: "Choose json, csv or html"})
	}
	return fields
}

func (s *Server) apiAuditTimeline(w http.ResponseWriter, r *http.Request, c casework.Caller) {
	tl, err := s.cases.AuditTimeline(r.Context(), c, r.PathValue("id"))
	s.reply(w, r, err, http.StatusOK, func() any { return tl })
}

// reportFormats are the media types of the report's formats.
var reportFormats = map[string]string{
	"json": "application/json",
	"csv":  "text/csv; charset=utf-8",
	"html": "text/html; charset=utf-8",
}

// renderReport renders the report into memory first, so that a failure
// is a clean error rather than half a file.
func renderReport(format string, rep timeliness.Report) ([]byte, error) {
	var b bytes.Buffer
	var err error
	switch format {
	case "csv":
		err = timeliness.WriteCSV(&b, rep)
	case "html":
		err = timeliness.WriteHTML(&b, rep)
	default:
		err = json.NewEncoder(&b).Encode(rep)
	}
	return b.Bytes(), err
}

// writeReport sends a rendered report; a download is named for the
// period, CSV and JSON to save and the HTML page to open.
func writeReport(w http.ResponseWriter, format string, rep timeliness.Report, body []byte, download bool) {
	h := w.Header()
	if format == "html" {
		// The report's page carries its own styles and loads nothing.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	}
	if download {
		disposition := "attachment"
		if format == "html" {
			disposition = "inline"
		}
		h.Set("Content-Disposition", fmt.Sprintf("%s; filename=%q", disposition,
			fmt.Sprintf("lantern-timeliness-%s-%s.%s", rep.From, rep.To, format)))
	}
	h.Set("Content-Type", reportFormats[format])
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// simulationForm is the policy simulation page's form, as typed.
type simulationForm struct {
	From, To, Policy string
}

// simulateForm is the form to try a proposed routing policy.
func (s *Server) simulateForm(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	if err := s.cases.Permit(r.Context(), c, authz.SimulatePolicy); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	p := page{Title: "Try a routing policy", Session: &sess, Now: s.cases.Clock().Now()}
	period := casework.CurrentMonth(p.Now)
	p.Body = simulationForm{From: period.From.String(), To: period.To.String()}
	s.render(w, http.StatusOK, "simulate", p)
}

// simulateRun runs the simulation and answers with its report, the same
// self-contained page `lantern policy simulate --format html` writes; a
// proposed policy the router would refuse is shown again with where it
// is wrong.
func (s *Server) simulateRun(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	form := simulationForm{From: r.PostFormValue("from"), To: r.PostFormValue("to"), Policy: r.PostFormValue("policy")}
	p := page{Title: "Try a routing policy", Session: &sess, Now: s.cases.Clock().Now(), Body: form}
	period, err := casework.ParsePeriod(form.From, form.To, p.Now)
	if err == nil && strings.TrimSpace(form.Policy) == "" {
		err = &casework.InvalidError{Fields: []casework.FieldError{{Pointer: "/policy", Detail: "Paste the whole proposed policy file"}}}
	}
	if err == nil {
		var rep simulate.Report
		if rep, err = s.cases.SimulatePolicy(r.Context(), c, period, []byte(form.Policy)); err == nil {
			var body bytes.Buffer
			if err := simulate.WriteHTML(&body, rep); err != nil {
				s.pageError(w, r, sess, err)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(body.Bytes())
			return
		}
	}
	var invalid *casework.InvalidError
	if errors.As(err, &invalid) {
		p.Errors = invalid.Fields
		s.render(w, http.StatusBadRequest, "simulate", p)
		return
	}
	s.pageError(w, r, sess, err)
}

// disclosuresPage is the disclosure log's form and, once a person is
// named, the notices that named them.
type disclosuresPage struct {
	NHSNumber, PolicePersonID, Force string
	Searched                         bool
	Found                            []disclosure.Disclosure
}

// auditDisclosures is the disclosure log page: every notice that named a
// person, for a right of access request. Every search is recorded.
func (s *Server) auditDisclosures(w http.ResponseWriter, r *http.Request, sess signin.Session, c casework.Caller) {
	if err := s.cases.Permit(r.Context(), c, authz.ReadDisclosures); err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	q := r.URL.Query()
	body := disclosuresPage{NHSNumber: strings.TrimSpace(q.Get("nhs_number")),
		PolicePersonID: strings.TrimSpace(q.Get("police_person_id")), Force: strings.TrimSpace(q.Get("force"))}
	p := page{Title: "Disclosure log", Session: &sess, Now: s.cases.Clock().Now(), Body: &body}
	if body.NHSNumber == "" && body.PolicePersonID == "" {
		s.render(w, http.StatusOK, "disclosures", p)
		return
	}
	if body.NHSNumber != "" && body.PolicePersonID != "" {
		p.Errors = []casework.FieldError{{Pointer: "/nhs_number", Detail: "Search by NHS number or by police person id, not both"}}
		s.render(w, http.StatusBadRequest, "disclosures", p)
		return
	}
	found, err := s.cases.Disclosures(r.Context(), c, disclosure.Query{NHSNumber: body.NHSNumber,
		PolicePersonID: body.PolicePersonID, ForceCode: body.Force})
	if err != nil {
		s.pageError(w, r, sess, err)
		return
	}
	body.Searched, body.Found = true, found
	s.render(w, http.StatusOK, "disclosures", p)
}

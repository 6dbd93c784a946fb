package api

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/problem"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

// report serves GET /v1/audit/report?from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|csv|html.
func (a *API) report(w http.ResponseWriter, r *http.Request) {
	who, ok := a.authenticate(w, r, a.Auditors)
	if !ok {
		return
	}
	if !who.MayReadReport() {
		problem.Write(w, r, problem.Forbidden)
		return
	}
	opts, format, errs := a.reportParams(r)
	if len(errs) > 0 {
		problem.Write(w, r, problem.New(http.StatusBadRequest, "invalid-query", "Invalid query", "", errs...))
		return
	}
	if !a.record(w, r, who, "report", opts.From.String()+".."+opts.To.String()) {
		return
	}
	rep, err := timeliness.Load(r.Context(), a.Ledger.Pool(), opts)
	if err != nil {
		a.unavailable(w, r, "computing report", err)
		return
	}
	a.writeReport(w, format, rep)
}

func (a *API) reportParams(r *http.Request) (timeliness.Options, string, []problem.FieldError) {
	q := r.URL.Query()
	var errs []problem.FieldError
	from, err := calendar.ParseDate(q.Get("from"))
	if err != nil {
		errs = append(errs, problem.FieldError{Pointer: "query:from", Detail: "want a date, YYYY-MM-DD"})
	}
	to, err := calendar.ParseDate(q.Get("to"))
	if err != nil {
		errs = append(errs, problem.FieldError{Pointer: "query:to", Detail: "want a date, YYYY-MM-DD"})
	} else if to.Before(from) {
		errs = append(errs, problem.FieldError{Pointer: "query:to", Detail: "is before from"})
	}
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	if _, ok := reportTypes[format]; !ok {
		errs = append(errs, problem.FieldError{Pointer: "query:format", Detail: "want json, csv or html"})
	}
	return timeliness.Options{From: from, To: to, AsOf: a.Clock.Now()}, format, errs
}

// reportTypes are the media types of the report's formats.
var reportTypes = map[string]string{
	"json": "application/json",
	"csv":  "text/csv; charset=utf-8",
	"html": "text/html; charset=utf-8",
}

// writeReport renders into memory first, so that a rendering failure is a
// clean error rather than half a report.
func (a *API) writeReport(w http.ResponseWriter, format string, rep timeliness.Report) {
	var b bytes.Buffer
	var err error
	switch format {
	case "csv":
		err = timeliness.WriteCSV(&b, rep)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="lantern-timeliness-%s-%s.csv"`, rep.From, rep.To))
	case "html":
		err = timeliness.WriteHTML(&b, rep)
		// The page is self-contained: it may load nothing at all.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	default:
		err = jsonEncode(&b, rep)
	}
	if err != nil {
		a.unavailable(w, nil, "rendering report", err)
		return
	}
	w.Header().Set("Content-Type", reportTypes[format])
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

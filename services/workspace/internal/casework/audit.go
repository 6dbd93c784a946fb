package casework

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/ledger/disclosure"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
	"github.com/lantern-safeguarding/lantern/services/router/simulate"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/accesslog"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/authz"
)

// The auditor's reads come from the audit schema that the ledger service
// keeps in the same database (services/ledger/projection): the audit rows hold
// identifiers, times and counts, never a name or a notice's text, so no
// page built from them can show more. The one exception is a policy
// simulation, which routes the period's incidents again and so reads them
// from the ledger's entries; it shows only counts, and the read is
// recorded like any other.

// ErrAuditUnavailable means the audit record cannot be read yet, because
// the ledger service has not created it (503).
var ErrAuditUnavailable = errors.New("the audit record is not available")

// MaxReportDays bounds a report's period, so that a mistyped year cannot
// tie the database up for minutes; a partnership's year fits.
const MaxReportDays = 366

// Period is the days a report covers, both included, in Europe/London.
type Period struct {
	From, To calendar.Date
}

// CurrentMonth is the calendar month in Europe/London that holds now.
func CurrentMonth(now time.Time) Period {
	today := calendar.DateOf(now.In(calendar.London))
	first := calendar.Date{Year: today.Year, Month: today.Month, Day: 1}
	next := time.Date(first.Year, first.Month+1, 1, 12, 0, 0, 0, time.UTC)
	return Period{From: first, To: calendar.DateOf(next).AddDays(-1)}
}

// ParsePeriod reads a period from two dates written YYYY-MM-DD. When both
// are empty it is the current month; otherwise both are needed. A problem
// is an *InvalidError naming the fields /from and /to.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	if from == "" && to == "" {
		return CurrentMonth(now), nil
	}
	var fields []FieldError
	f, err := calendar.ParseDate(from)
	if err != nil {
		fields = append(fields, FieldError{"/from", "Enter the first day as a date, such as 2026-11-01"})
	}
	t, errTo := calendar.ParseDate(to)
	switch {
	case errTo != nil:
		fields = append(fields, FieldError{"/to", "Enter the last day as a date, such as 2026-11-30"})
	case err == nil && t.Before(f):
		fields = append(fields, FieldError{"/to", "The last day must not be before the first"})
	case err == nil && f.AddDays(MaxReportDays).Before(t.AddDays(1)):
		fields = append(fields, FieldError{"/to", fmt.Sprintf("A report covers at most %d days", MaxReportDays)})
	}
	if len(fields) > 0 {
		return Period{}, &InvalidError{Fields: fields}
	}
	return Period{From: f, To: t}, nil
}

// AuditReport computes the timeliness report for the period, as `lantern
// audit report` does, with deadlines still open judged at the service's
// clock, and records the view before returning it.
func (s *Service) AuditReport(ctx context.Context, c Caller, p Period) (timeliness.Report, error) {
	if err := s.permit(ctx, c, authz.ReadAuditReport, accesslog.Entry{}); err != nil {
		return timeliness.Report{}, err
	}
	rep, err := timeliness.Load(ctx, s.pool, timeliness.Options{From: p.From, To: p.To, AsOf: s.clock.Now()})
	if err != nil {
		return timeliness.Report{}, auditReadError("computing the timeliness report", err)
	}
	err = s.record(ctx, c, accesslog.Entry{Resource: accesslog.ResourceTimelinessReport,
		Purpose: purposes[authz.ReadAuditReport]})
	if err != nil {
		return timeliness.Report{}, err
	}
	return rep, nil
}

// AuditTimeline returns an incident's timeline, each notification under
// the children it concerns with its deadline and whether it was met,
// recording the read. It is built from the incident's audit rows exactly
// as the ledger builds it from its entries (projection.IncidentTimeline),
// without the ledger's sequence numbers: each step's event id names its
// ledger entry.
func (s *Service) AuditTimeline(ctx context.Context, c Caller, incidentID string) (projection.Timeline, error) {
	en, err := s.entryFor(ctx, c, authz.ReadAuditTimeline, accesslog.ResourceIncidentTimeline, "", incidentID)
	if err != nil {
		return projection.Timeline{}, err
	}
	rows, err := projection.LoadIncident(ctx, s.pool, en.IncidentID)
	if err != nil {
		return projection.Timeline{}, auditReadError("reading the incident's audit record", err)
	}
	if len(rows.Steps) == 0 {
		en.IncidentID = ""
		return projection.Timeline{}, s.refuseAs(ctx, c, authz.ReadAuditTimeline, en, events.RefusalNotFound)
	}
	tl := projection.BuildTimeline(en.IncidentID, rows, nil)
	en.Purpose = purposes[authz.ReadAuditTimeline]
	if err := s.record(ctx, c, en); err != nil {
		return projection.Timeline{}, err
	}
	return tl, nil
}

// auditReadError tells a missing audit schema, which the ledger service
// creates when it first starts, from any other failure.
func auditReadError(doing string, err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && (pg.Code == "42P01" || pg.Code == "3F000") {
		return fmt.Errorf("%s: %w: %w", doing, ErrAuditUnavailable, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// SimulatePolicy routes the period's incidents again under the proposed
// policy text, against the policy in force, as `lantern policy simulate`
// does, and records the read: the simulation reads every incident of the
// period, though it shows only counts.
func (s *Service) SimulatePolicy(ctx context.Context, c Caller, p Period, proposed []byte) (simulate.Report, error) {
	if err := s.permit(ctx, c, authz.SimulatePolicy, accesslog.Entry{}); err != nil {
		return simulate.Report{}, err
	}
	ref, err := refdata.Load(s.referenceDir)
	if err != nil {
		return simulate.Report{}, fmt.Errorf("loading the reference data: %w", err)
	}
	err = s.record(ctx, c, accesslog.Entry{Resource: accesslog.ResourcePolicySimulation, Purpose: purposes[authz.SimulatePolicy]})
	if err != nil {
		return simulate.Report{}, err
	}
	rep, err := simulate.Simulate(ctx, s.pool, simulate.Options{BaselineFile: s.policyFile, ProposedFile: "proposed policy",
		ProposedText: proposed, Reference: ref, From: p.From, To: p.To})
	if problems := simulate.ProblemsOf(err); problems != nil {
		fields := make([]FieldError, len(problems))
		for i, problem := range problems {
			fields[i] = FieldError{Pointer: "/policy", Detail: problem}
		}
		return simulate.Report{}, &InvalidError{Fields: fields}
	}
	return rep, err
}

// Disclosures lists every notice that named the person, as `lantern audit
// disclosures` does, recording the search (but not whom it named) first.
func (s *Service) Disclosures(ctx context.Context, c Caller, q disclosure.Query) ([]disclosure.Disclosure, error) {
	if err := s.permit(ctx, c, authz.ReadDisclosures, accesslog.Entry{}); err != nil {
		return nil, err
	}
	err := s.record(ctx, c, accesslog.Entry{Resource: accesslog.ResourceDisclosureLog, Purpose: purposes[authz.ReadDisclosures]})
	if err != nil {
		return nil, err
	}
	found, err := disclosure.Find(ctx, s.pool, s.sealer, q)
	if err != nil {
		return nil, auditReadError("searching the disclosures", err)
	}
	return found, nil
}

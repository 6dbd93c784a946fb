package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// Simulate loads both policies, reads the period's incidents from the
// ledger in db, with the repeat window before it, and runs the simulation.
func Simulate(ctx context.Context, db auditlog.Querier, o Options) (Report, error) {
	baseline, proposed, err := o.policies()
	if err != nil {
		return Report{}, err
	}
	months := max(baseline.RepeatWindowMonths, proposed.RepeatWindowMonths)
	in, err := LoadLedger(ctx, db, o.From, o.To, months)
	if err != nil {
		return Report{}, err
	}
	return run(o, baseline, proposed, in)
}

// LoadLedger reads from the ledger the incidents received from
// lookbackMonths before from to the end of to, each with the MASH's first
// triage decision, and counts the notices recorded for the period's
// incidents. An incident whose notice the ledger cannot read (shredded)
// but whose notices it holds is counted as unreadable.
func LoadLedger(ctx context.Context, db auditlog.Querier, from, to calendar.Date, lookbackMonths int) (Input, error) {
	start := from.In(calendar.London).AddDate(0, -lookbackMonths, 0)
	end := to.AddDays(1).In(calendar.London)
	rows, err := db.Query(ctx, `SELECT seq, event_type, incident_id, event FROM ledger.entries
		WHERE event_type = ANY($1) AND event_time >= $2 ORDER BY seq`,
		[]string{string(events.IncidentReported), string(events.TriageDecided), string(events.NotificationRequested)}, start)
	if err != nil {
		return Input{}, fmt.Errorf("reading the ledger: %w", err)
	}
	defer rows.Close()
	var in Input
	index := map[string]int{}
	noticed := map[string]bool{}
	for rows.Next() {
		var e auditlog.Entry
		if err := rows.Scan(&e.Seq, &e.EventType, &e.IncidentID, &e.Event); err != nil {
			return Input{}, fmt.Errorf("reading the ledger: %w", err)
		}
		ev, err := e.CloudEvent()
		switch {
		case err != nil && e.EventType == string(events.IncidentReported):
			continue // unreadable: counted below if its notices are here
		case err != nil:
			return Input{}, err
		}
		switch events.Type(e.EventType) {
		case events.IncidentReported:
			var d events.IncidentReportedData
			if cloudevent.DecodeData(ev, &d) != nil || d.ReceivedAt.After(end) {
				continue
			}
			index[d.IncidentID] = len(in.Incidents)
			in.Incidents = append(in.Incidents, Incident{Reported: d, ReportedAt: ev.Time()})
		case events.TriageDecided:
			var t events.TriageDecidedData
			if cloudevent.DecodeData(ev, &t) != nil {
				continue
			}
			if i, ok := index[t.IncidentID]; ok && in.Incidents[i].Triage == nil {
				in.Incidents[i].Triage, in.Incidents[i].TriageAt = &t, ev.Time()
			}
		case events.NotificationRequested:
			if inPeriod(ev.Time(), from, to) {
				noticed[e.IncidentID] = true
			}
			if i, ok := index[e.IncidentID]; ok && inPeriod(in.Incidents[i].Reported.ReceivedAt, from, to) {
				in.Recorded++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return Input{}, fmt.Errorf("reading the ledger: %w", err)
	}
	for id := range noticed {
		if _, ok := index[id]; !ok {
			in.Unreadable++
		}
	}
	return in, nil
}

func inPeriod(t time.Time, from, to calendar.Date) bool {
	day := calendar.DateOf(t.In(calendar.London))
	return !day.Before(from) && !to.Before(day)
}

// Package simulate routes the incidents Lantern routed in a period again,
// under a proposed routing policy and under the policy it is compared
// with, without sending or recording anything, and reports the
// difference: notices added and removed per rule, recipient kind and
// organisation, deadlines moved, and each organisation's weekly load
// before and after. A partnership board reads it before it changes a
// threshold or adds a rule.
//
// It reads what Lantern keeps: the incidents and the MASH's triage
// decisions from the ledger (LoadLedger). Repeat counts are rebuilt from
// the same incidents, as the router counts them, with the incidents of the
// repeat window before the period counted but not reported. The MASH's
// decisions are taken as they were made: a policy that would have changed
// the MASH's rating cannot know what the MASH would have decided.
package simulate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
	"github.com/lantern-safeguarding/lantern/services/router/internal/routing"
)

// Incident is one incident as the ledger holds it.
type Incident struct {
	Reported events.IncidentReportedData
	// ReportedAt is the incident.reported event's time, which the router
	// decides on.
	ReportedAt time.Time
	// Triage is the MASH's first triage decision, if it made one.
	Triage *events.TriageDecidedData
	// TriageAt is the triage.decided event's time.
	TriageAt time.Time
}

// Input is what a simulation runs over.
type Input struct {
	// Incidents in the order Lantern received them, from the start of the
	// repeat window before From.
	Incidents []Incident
	// Recorded counts the notices Lantern recorded for the period's
	// incidents, so that the baseline can be compared with what happened.
	Recorded int
	// Unreadable counts the period's incidents whose notice the ledger no
	// longer holds readable (shredded): known from their notices only.
	Unreadable int
}

// Options say what to compare over which days.
type Options struct {
	// BaselineFile is the policy the period is compared with, usually the
	// one in force; ProposedFile the change.
	BaselineFile, ProposedFile string
	// ProposedText, when set, is the proposed policy's text, read as if
	// from ProposedFile (which then only names it).
	ProposedText []byte
	Reference    *refdata.Set
	From, To     calendar.Date
}

// Report is the difference a proposed policy makes.
type Report struct {
	From     string     `json:"from"`
	To       string     `json:"to"`
	Baseline PolicyInfo `json:"baseline"`
	Proposed PolicyInfo `json:"proposed"`
	// Incidents counts the period's incidents routed again; Unreadable
	// those that could not be (see Input).
	Incidents  int `json:"incidents"`
	Unreadable int `json:"unreadable"`
	// Recorded is what Lantern actually recorded for those incidents.
	Recorded       int          `json:"recorded_notices"`
	Totals         Count        `json:"totals"`
	ByRule         []Count      `json:"by_rule"`
	ByKind         []Count      `json:"by_recipient_kind"`
	ByOrganisation []Count      `json:"by_organisation"`
	Moved          []Move       `json:"deadlines_moved"`
	Weekly         []WeeklyLoad `json:"weekly_load"`
}

// PolicyInfo names a policy.
type PolicyInfo struct {
	File    string `json:"file"`
	Version string `json:"version"`
	Digest  string `json:"digest"`
}

// Count is the notices of one rule, kind or organisation before and after.
type Count struct {
	// Key is the rule id, the recipient kind or kind:id.
	Key     string `json:"key"`
	Name    string `json:"name,omitempty"`
	Before  int    `json:"before"`
	After   int    `json:"after"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
	Moved   int    `json:"deadlines_moved"`
}

// Move is a notice both policies send with different deadlines.
type Move struct {
	NotificationID string    `json:"notification_id"`
	IncidentID     string    `json:"incident_id"`
	RuleID         string    `json:"rule_id"`
	Recipient      string    `json:"recipient"`
	Before         time.Time `json:"before"`
	After          time.Time `json:"after"`
}

// WeeklyLoad is an organisation's notices in one week (from Monday, in
// Europe/London, by when the incident was received).
type WeeklyLoad struct {
	Organisation string `json:"organisation"`
	Name         string `json:"name"`
	Week         string `json:"week"`
	Before       int    `json:"before"`
	After        int    `json:"after"`
}

// notice is one decision of one policy.
type notice struct {
	id, incidentID, ruleID string
	recipient              events.Recipient
	due                    time.Time
	week                   string
}

// Run routes the period's incidents under both policies.
func Run(o Options, in Input) (Report, error) {
	baseline, proposed, err := o.policies()
	if err != nil {
		return Report{}, err
	}
	return run(o, baseline, proposed, in)
}

// policies loads and checks the baseline and the proposed policy.
func (o Options) policies() (baseline, proposed *policy.Policy, err error) {
	if baseline, err = policy.LoadChecked(o.BaselineFile, o.Reference); err != nil {
		return nil, nil, fmt.Errorf("the baseline policy: %w", err)
	}
	if proposed, err = o.proposed(); err != nil {
		return nil, nil, fmt.Errorf("the proposed policy: %w", err)
	}
	return baseline, proposed, nil
}

// run routes the period's incidents under the two policies loaded.
func run(o Options, baseline, proposed *policy.Policy, in Input) (Report, error) {
	before, after, routed, err := route(baseline, proposed, o, in.Incidents)
	if err != nil {
		return Report{}, err
	}
	rep := compare(before, after)
	rep.From, rep.To = o.From.String(), o.To.String()
	rep.Baseline = PolicyInfo{File: o.BaselineFile, Version: baseline.Version, Digest: baseline.Digest}
	rep.Proposed = PolicyInfo{File: o.ProposedFile, Version: proposed.Version, Digest: proposed.Digest}
	rep.Incidents, rep.Unreadable, rep.Recorded = routed, in.Unreadable, in.Recorded
	return rep, nil
}

func (o Options) proposed() (*policy.Policy, error) {
	if o.ProposedText == nil {
		return policy.LoadChecked(o.ProposedFile, o.Reference)
	}
	p, err := policy.Parse(o.ProposedFile, o.ProposedText)
	if err != nil {
		return nil, err
	}
	return p, policy.CheckReference(p, o.Reference)
}

// ProblemsOf lists where a refused policy is wrong, one line each, or
// nil when err is not a refused policy.
func ProblemsOf(err error) []string {
	var loadErr *policy.LoadError
	if !errors.As(err, &loadErr) {
		return nil
	}
	out := make([]string, len(loadErr.Problems))
	for i, p := range loadErr.Problems {
		out[i] = p.String()
	}
	return out
}

// route decides every incident of the period under both policies, with
// repeat counts from every incident before it.
func route(baseline, proposed *policy.Policy, o Options, incidents []Incident) (map[string]notice, map[string]notice, int, error) {
	ref := func() *refdata.Set { return o.Reference }
	routers := []*routing.Router{
		{Policy: func() *policy.Policy { return baseline }, Reference: ref},
		{Policy: func() *policy.Policy { return proposed }, Reference: ref},
	}
	months := []int{baseline.RepeatWindowMonths, proposed.RepeatWindowMonths}
	out := []map[string]notice{{}, {}}
	hasher := routing.NewHasher("lantern-policy-simulation")
	var history routing.MemoryHistory
	routed := 0
	for _, inc := range incidents {
		d := inc.Reported
		ids := hasher.Identify(d.Incident)
		if inPeriod(d.ReceivedAt, o.From, o.To) {
			routed++
			for i, r := range routers {
				q := routing.HistoryQuery{IncidentID: d.IncidentID, OccurredAt: d.Incident.OccurredAt, Months: months[i], IDs: ids}
				if err := decide(r, inc, history.History(q), out[i], weekOf(d.ReceivedAt)); err != nil {
					return nil, nil, 0, fmt.Errorf("incident %s: %w", d.IncidentID, err)
				}
			}
		}
		history.Record(d.IncidentID, d.Incident.OccurredAt, ids)
	}
	return out[0], out[1], routed, nil
}

// decide routes one incident and its triage under one policy.
func decide(r *routing.Router, inc Incident, h routing.History, into map[string]notice, week string) error {
	out, err := r.OnIncident(context.Background(), inc.Reported, h, inc.ReportedAt)
	if err != nil {
		return err
	}
	decisions := out.Decisions
	if inc.Triage != nil {
		t, err := r.OnTriage(context.Background(), out.Case, *inc.Triage, inc.TriageAt)
		if err != nil {
			return err
		}
		decisions = append(decisions, t.Decisions...)
	}
	for _, dec := range decisions {
		q := dec.Request
		into[q.NotificationID] = notice{id: q.NotificationID, incidentID: q.IncidentID, ruleID: q.RuleID,
			recipient: q.Recipient, due: q.DueAt, week: week}
	}
	return nil
}

// weekOf is the Monday of the London week of t, as YYYY-MM-DD.
func weekOf(t time.Time) string {
	day := calendar.DateOf(t.In(calendar.London))
	weekday := int(day.Weekday()+6) % 7
	return day.AddDays(-weekday).String()
}

// compare counts the notices each policy sends and how they differ.
func compare(before, after map[string]notice) Report {
	rules, kinds, orgs := counter{}, counter{}, counter{}
	weekly := map[[2]string]*WeeklyLoad{}
	var rep Report
	load := func(n notice) *WeeklyLoad {
		org := string(n.recipient.Kind) + ":" + n.recipient.ID
		w, ok := weekly[[2]string{org, n.week}]
		if !ok {
			w = &WeeklyLoad{Organisation: org, Name: n.recipient.Name, Week: n.week}
			weekly[[2]string{org, n.week}] = w
		}
		return w
	}
	each := func(n notice, f func(c *Count)) {
		f(&rep.Totals)
		f(rules.at(n.ruleID, ""))
		f(kinds.at(string(n.recipient.Kind), ""))
		f(orgs.at(string(n.recipient.Kind)+":"+n.recipient.ID, n.recipient.Name))
	}
	for id, b := range before {
		each(b, func(c *Count) { c.Before++ })
		load(b).Before++
		a, kept := after[id]
		switch {
		case !kept:
			each(b, func(c *Count) { c.Removed++ })
		case !a.due.Equal(b.due):
			each(b, func(c *Count) { c.Moved++ })
			rep.Moved = append(rep.Moved, Move{NotificationID: id, IncidentID: b.incidentID, RuleID: b.ruleID,
				Recipient: string(b.recipient.Kind) + ":" + b.recipient.ID, Before: b.due, After: a.due})
		}
	}
	for id, a := range after {
		each(a, func(c *Count) { c.After++ })
		load(a).After++
		if _, kept := before[id]; !kept {
			each(a, func(c *Count) { c.Added++ })
		}
	}
	rep.Totals.Key = "all"
	rep.ByRule, rep.ByKind, rep.ByOrganisation = rules.sorted(compareRuleIDs), kinds.sorted(nil), orgs.sorted(nil)
	slices.SortFunc(rep.Moved, func(x, y Move) int {
		return cmp.Or(x.Before.Compare(y.Before), cmp.Compare(x.NotificationID, y.NotificationID))
	})
	for _, w := range weekly {
		rep.Weekly = append(rep.Weekly, *w)
	}
	slices.SortFunc(rep.Weekly, func(x, y WeeklyLoad) int {
		return cmp.Or(cmp.Compare(x.Organisation, y.Organisation), cmp.Compare(x.Week, y.Week))
	})
	return rep
}

type counter map[string]*Count

func (c counter) at(key, name string) *Count {
	n, ok := c[key]
	if !ok {
		n = &Count{Key: key, Name: name}
		c[key] = n
	}
	return n
}

func (c counter) sorted(compareKeys func(a, b string) int) []Count {
	if compareKeys == nil {
		compareKeys = cmp.Compare[string]
	}
	out := make([]Count, 0, len(c))
	for _, n := range c {
		out = append(out, *n)
	}
	slices.SortFunc(out, func(x, y Count) int { return compareKeys(x.Key, y.Key) })
	return out
}

// compareRuleIDs orders R2 before R10, and a partnership's own ids after.
func compareRuleIDs(a, b string) int {
	var na, nb int
	_, errA := fmt.Sscanf(a, "R%d", &na)
	_, errB := fmt.Sscanf(b, "R%d", &nb)
	switch {
	case errA == nil && errB == nil:
		return cmp.Or(cmp.Compare(na, nb), cmp.Compare(a, b))
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
)

// Router is the Decider that applies the routing policy. Policy and
// Reference are called once per event, so that every decision about one
// event comes from one version of each.
type Router struct {
	Policy    func() *policy.Policy
	Reference func() *refdata.Set
	// IDs derives the notification ids with the router's key, so that
	// nobody who sees the incident can predict them, nor the ids of the
	// events about them. The zero IDs (simulations, tests) is unkeyed.
	IDs cloudevent.IDs
}

var _ Decider = (*Router)(nil)

// evaluation is one event being routed.
type evaluation struct {
	ids        cloudevent.IDs
	pol        *policy.Policy
	ref        *refdata.Set
	incidentID string
	in         ppn.Incident
	now        time.Time
	// mashReceived is when the MASH had the incident: Lantern accepted it
	// and told the MASH at once.
	mashReceived time.Time
	cal          calendars
	facts        policy.Facts
	repeat       map[string]bool
	out          []Decision
	unrouted     []events.RecipientKind
}

// rating is the MASH rating a rule timed from rag_assigned works with:
// the MASH's own, or the default with the latest time it is due.
type rating struct {
	rag      policy.RAG
	assigned time.Time
}

func (r *Router) begin(incidentID string, in ppn.Incident, receivedAt, now time.Time) (*evaluation, error) {
	ref := r.Reference()
	la, ok := ref.LocalAuthority(in.LocalAuthorityCode)
	if !ok {
		return nil, fmt.Errorf("local authority %s is not in the reference data", in.LocalAuthorityCode)
	}
	return &evaluation{ids: r.IDs, pol: r.Policy(), ref: ref, incidentID: incidentID, in: in, now: now,
		mashReceived: latest(receivedAt, in.OccurredAt),
		cal:          calendars{holidays: ref.Holidays(), mashHours: la.MASHHours}, repeat: map[string]bool{}}, nil
}

// OnIncident applies every rule that fires when an incident is reported.
func (r *Router) OnIncident(_ context.Context, d events.IncidentReportedData, h History, now time.Time) (Outcome, error) {
	e, err := r.begin(d.IncidentID, d.Incident, d.ReceivedAt, now)
	if err != nil {
		return Outcome{}, err
	}
	sameParties := max(e.in.IncidentsSameParties12m, h.SamePartiesIncidents) + 1
	proposal := ProposeRAG(e.pol, e.in, sameParties)
	e.facts = IncidentFacts(e.in, h, sameParties, proposal.RAG)
	if err := e.markRepeatChildren(); err != nil {
		return Outcome{}, err
	}
	scope, err := e.pol.NewScope(&e.facts, string(proposal.RAG))
	if err != nil {
		return Outcome{}, err
	}
	triageDue, err := e.triageDue(scope)
	if err != nil {
		return Outcome{}, err
	}
	anticipated := rating{rag: proposal.RAG, assigned: triageDue}
	var frontDoors []*policy.Rule
	for _, rule := range e.pol.RulesOn(policy.OnIncident) {
		if rule.FrontDoor {
			frontDoors = append(frontDoors, rule)
			continue
		}
		if err := e.apply(rule, scope, anticipated, nil); err != nil {
			return Outcome{}, err
		}
	}
	// The front door goes last, so that it knows every recipient the
	// other rules could not find, and leads the list, as the notice every
	// other notice follows.
	for _, rule := range frontDoors {
		before := len(e.out)
		if err := e.apply(rule, scope, anticipated, &frontDoor{proposal: proposal, triageDue: triageDue}); err != nil {
			return Outcome{}, err
		}
		e.out = append(slices.Clone(e.out[before:]), e.out[:before]...)
	}
	c := Case{IncidentID: d.IncidentID, ReceivedAt: e.mashReceived, DefaultRAG: proposal.RAG,
		RepeatChildren: e.repeatChildren(), Incident: caseIncident(e.in), Facts: &e.facts}
	return e.outcome(c), nil
}

// OnTriage applies the rules that wait for the MASH's rating.
func (r *Router) OnTriage(_ context.Context, c Case, t events.TriageDecidedData, now time.Time) (Outcome, error) {
	e, err := r.begin(c.IncidentID, c.Incident, c.ReceivedAt, now)
	if err != nil {
		return Outcome{}, err
	}
	for _, id := range c.RepeatChildren {
		e.repeat[id] = true
	}
	rag := policy.RAG(t.RAG)
	if rag.Rank() == 0 {
		return Outcome{}, fmt.Errorf("triage of incident %s has an unknown rating %q", c.IncidentID, t.RAG)
	}
	e.facts = c.facts()
	e.facts.Triage = &policy.TriageFacts{RAG: t.RAG, Decision: t.Decision}
	scope, err := e.pol.NewScope(&e.facts, t.RAG)
	if err != nil {
		return Outcome{}, err
	}
	given := rating{rag: rag, assigned: latest(t.DecidedAt, e.in.OccurredAt)}
	for _, rule := range e.pol.RulesOn(policy.OnTriage) {
		if err := e.apply(rule, scope, given, nil); err != nil {
			return Outcome{}, err
		}
	}
	return e.outcome(Case{}), nil
}

func (e *evaluation) outcome(c Case) Outcome {
	slices.Sort(e.unrouted)
	return Outcome{Decisions: e.out, Case: c, PolicyVersion: e.pol.Version, PolicyDigest: e.pol.Digest, Unrouted: slices.Compact(e.unrouted)}
}

// markRepeatChildren applies R17 to each child.
func (e *evaluation) markRepeatChildren() error {
	rule := e.pol.Repeat
	if !rule.Enabled || rule.Children == nil {
		return nil
	}
	scope, err := e.pol.NewScope(&e.facts, e.facts.DefaultRAG)
	if err != nil {
		return err
	}
	for i, c := range e.facts.Children {
		repeat, err := scope.HoldsFor(rule.Children, c)
		if err != nil {
			return fmt.Errorf("rule %s: %w", rule.ID, err)
		}
		if repeat {
			e.facts.Children[i].Repeat = true
			e.repeat[c.PersonID] = true
		}
	}
	return nil
}

func (e *evaluation) repeatChildren() []string {
	var ids []string
	for _, c := range e.in.Children {
		if e.repeat[c.PersonID] {
			ids = append(ids, c.PersonID)
		}
	}
	return ids
}

// anyRepeat reports whether any of the children is a repeat child.
func (e *evaluation) anyRepeat(children []ppn.Child) bool {
	for _, c := range children {
		if e.repeat[c.PersonID] {
			return true
		}
	}
	return false
}

// request describes one notice before it is encoded.
type request struct {
	rule        string
	purpose     string
	lawfulBasis string
	recipient   events.Recipient
	children    []ppn.Child
	due         due
	sendBy      time.Time
	profile     events.Profile
	body        any
	flags       []string
	// triageDue is R2's deadline, on the MASH notice only.
	triageDue time.Time
}

// add encodes a notice and appends it. The notification id is derived,
// with the router's key, from the incident, the rule and the recipient, so
// that the same decision taken twice, from a redelivery or a second
// triage, is the same notice.
func (e *evaluation) add(r request) error {
	body, err := json.Marshal(r.body)
	if err != nil {
		return fmt.Errorf("encoding the %s notice: %w", r.rule, err)
	}
	childIDs := make([]string, 0, len(r.children))
	for _, c := range r.children {
		childIDs = append(childIDs, c.PersonID)
	}
	repeat := e.anyRepeat(r.children)
	flags := slices.Clone(r.flags)
	flags = append(flags, r.due.Flags...)
	if repeat {
		flags = append(flags, FlagRepeatChild)
	}
	slices.Sort(flags)
	n := events.NotificationRequestedData{
		NotificationID: e.ids.Derive(e.incidentID, r.rule, string(r.recipient.Kind), r.recipient.ID),
		IncidentID:     e.incidentID, RuleID: r.rule, PolicyVersion: e.pol.Version, Recipient: r.recipient,
		ChildIDs: childIDs, RequestedAt: e.now.UTC(), DueAt: latest(r.due.At, e.in.OccurredAt).UTC(),
		Calendar: string(r.due.Calendar), Profile: r.profile, LawfulBasis: r.lawfulBasis,
		Purpose: r.purpose, Repeat: repeat, Flags: slices.Compact(flags), Notice: body,
	}
	received := e.mashReceived.UTC()
	n.ReceivedAt, n.ForceCode = &received, e.in.ForceCode
	if !r.triageDue.IsZero() {
		at := latest(r.triageDue, e.in.OccurredAt).UTC()
		n.TriageDueAt = &at
	}
	d := Decision{Request: n}
	if !r.sendBy.IsZero() {
		d.SendBy = r.sendBy.UTC()
	}
	e.out = append(e.out, d)
	return nil
}

// service returns the service of a kind in the incident's local authority,
// noting it as unrouted when the reference data has none.
func (e *evaluation) service(kind events.RecipientKind) (events.Recipient, bool) {
	if kind == events.KindMASH {
		la, _ := e.ref.LocalAuthority(e.in.LocalAuthorityCode)
		return events.Recipient{Kind: events.KindMASH, ID: la.Code, Name: la.Name + " MASH", Email: la.MASHEmail}, true
	}
	s, ok := e.ref.Service(e.in.LocalAuthorityCode, kind)
	if !ok {
		e.unrouted = append(e.unrouted, kind)
		return events.Recipient{}, false
	}
	return events.Recipient{Kind: kind, ID: s.LocalAuthorityCode, Name: s.Name, Email: s.Email}, true
}

// caseIncident keeps of an incident only what the triage-time rules need
// to build health notices: no narrative, no DASH answers, no police
// history, no officer, no adult other than victims and perpetrators, and of
// a perpetrator only the name and role.
func caseIncident(in ppn.Incident) ppn.Incident {
	out := ppn.Incident{ForceCode: in.ForceCode, PoliceReference: in.PoliceReference, OccurredAt: in.OccurredAt,
		ReportedAt: in.ReportedAt, LocalAuthorityCode: in.LocalAuthorityCode, DASH: ppn.DASH{Level: in.DASH.Level},
		Children: make([]ppn.Child, 0, len(in.Children))}
	if in.Location != nil {
		out.Location = &ppn.Location{Postcode: in.Location.Postcode, Description: in.Location.Description}
	}
	for _, a := range in.Adults {
		switch a.Role {
		case ppn.RoleVictim:
			out.Adults = append(out.Adults, ppn.Adult{PersonID: a.PersonID, Role: a.Role, Name: a.Name,
				DateOfBirth: a.DateOfBirth, Pregnant: a.Pregnant, ExpectedDueDate: a.ExpectedDueDate, GPODSCode: a.GPODSCode})
		case ppn.RolePerpetrator:
			out.Adults = append(out.Adults, ppn.Adult{PersonID: a.PersonID, Role: a.Role, Name: a.Name})
		}
	}
	for _, c := range in.Children {
		out.Children = append(out.Children, ppn.Child{PersonID: c.PersonID, Name: c.Name, DateOfBirth: c.DateOfBirth,
			Present: c.Present, VoiceOfChild: c.VoiceOfChild, GPODSCode: c.GPODSCode, NHSNumber: c.NHSNumber,
			OpenToCSC: c.OpenToCSC, CPPlan: c.CPPlan})
	}
	return out
}

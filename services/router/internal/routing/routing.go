// Package routing decides, for each incident, every recipient that must be
// told, by when, and what each may see. It applies the rule set of
// domain.md section 8.3 with the settings of the policy in force (package
// policy), the reference data in force (pkg/refdata) and what Lantern has
// recorded of earlier incidents (History).
//
// The rules are the policy's: each fires on an incident or on the MASH's
// triage decision when its expression holds over the incident's facts
// (IncidentFacts). This package is the code the policy file names: how
// each finder finds organisations in the reference data, which minimised
// notice each rule sends (package notice), the school calendars, R2a's
// proposed rating and the MASH's front door. Rules that fire on triage
// read the Case the router kept of the incident.
package routing

import (
	"context"
	"slices"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
)

// Decider turns an event into the notices it calls for. It is pure with
// respect to its inputs: the same event, case and history always give the
// same notices, so that a redelivery can never produce different ones.
type Decider interface {
	OnIncident(ctx context.Context, d events.IncidentReportedData, h History, now time.Time) (Outcome, error)
	OnTriage(ctx context.Context, c Case, t events.TriageDecidedData, now time.Time) (Outcome, error)
}

// Decision is one notice the router has decided to request.
type Decision struct {
	Request events.NotificationRequestedData
	// SendBy is when the notice must have been sent, where a rule says so
	// (R8's 06:00 on the due day); zero otherwise.
	SendBy time.Time
}

// Outcome is everything one event decided.
type Outcome struct {
	Decisions []Decision
	// Case is what the router keeps of an incident to act on its triage
	// later; it is empty for a triage outcome.
	Case Case
	// PolicyVersion and PolicyDigest identify the policy the decisions
	// came from: its declared version and the digest of its exact text.
	PolicyVersion string
	PolicyDigest  string
	// Unrouted lists the recipient kinds a rule named but the reference
	// data could not resolve, for the log.
	Unrouted []events.RecipientKind
}

// History is what Lantern's own records say about earlier incidents
// within the policy's repeat window.
type History struct {
	// ChildIncidents maps a child's person_id to the number of other
	// incidents recorded for the same child.
	ChildIncidents map[string]int
	// SamePartiesIncidents is the largest number of other incidents
	// recorded for any victim and perpetrator pair of this incident.
	SamePartiesIncidents int
}

// Case is what the router keeps of an incident so that it can act on the
// MASH's triage decision later. Incident holds only what the triage-time
// rules need (see caseIncident): never the narrative, the DASH answers,
// the officer or other adults.
type Case struct {
	IncidentID string
	ReceivedAt time.Time
	DefaultRAG policy.RAG
	// RepeatChildren holds the person_id of each child that reached the
	// repeat threshold (R17) with this incident.
	RepeatChildren []string
	Incident       ppn.Incident
	// Facts are the facts the rules read at incident time, kept so that
	// the rules that fire on triage read the same; nil for a case kept
	// before facts were.
	Facts *policy.Facts
}

// facts returns the case's facts, rebuilt from what the case kept of the
// incident when it has none.
func (c Case) facts() policy.Facts {
	if c.Facts != nil {
		f := *c.Facts
		f.Children = slices.Clone(f.Children)
		return f
	}
	f := IncidentFacts(c.Incident, History{}, c.Incident.IncidentsSameParties12m+1, c.DefaultRAG)
	for i := range f.Children {
		f.Children[i].Repeat = slices.Contains(c.RepeatChildren, f.Children[i].PersonID)
	}
	return f
}

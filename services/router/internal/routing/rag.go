package routing

import (
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/router/internal/policy"
)

// Flags the router sets on notices. They are plain words because the
// notification.requested schema allows only [a-z0-9_] in a flag.
const (
	FlagCumulativeHarm         = "cumulative_harm"
	FlagAllocatedWorkerSameDay = "allocated_worker_same_day"
	FlagEscalation             = "escalation"
	FlagRepeatChild            = "repeat_child"
	FlagRepeatSameParties      = "repeat_same_parties"
	FlagPreBirthConsideration  = "pre_birth_consideration"
	FlagMARACCriteriaMet       = "marac_criteria_met"
	FlagMAPPA                  = "mappa"
	FlagSchoolCalendarFallback = "school_calendar_fallback"
	flagDefaultRAGPrefix       = "default_rag_"
	flagRAGReasonPrefix        = "rag_reason_"
	flagUnroutedPrefix         = "unrouted_"
	ragReasonUnborn            = "unborn"
	ragReasonUnderOne          = "under_one"
	ragReasonSameParties       = "same_parties"
	ragReasonDASHLevelPrefix   = "dash_"
)

// RAGProposal is the default rating of R2a and why: the DASH level's
// rating, raised by the floors that apply.
type RAGProposal struct {
	RAG policy.RAG
	// Reasons name what set the rating: dash_<level>, then any of unborn,
	// under_one and same_parties whose floor applied.
	Reasons []string
	// CumulativeHarm is set when repeat incidents between the same
	// parties reached the policy's threshold.
	CumulativeHarm bool
	// AllocatedWorker is set when a child has a child protection plan or
	// is open to children's social care, so the allocated worker must hear
	// the same day.
	AllocatedWorker bool
}

// ProposeRAG computes R2a's default rating for an incident whose parties
// have had samePartiesTotal incidents in the window, this one included.
func ProposeRAG(p *policy.Policy, in ppn.Incident, samePartiesTotal int) RAGProposal {
	r := RAGProposal{RAG: p.DefaultRAG.ByDASH[in.DASH.Level]}
	if r.RAG.Rank() == 0 {
		r.RAG = policy.Green
	}
	r.Reasons = append(r.Reasons, ragReasonDASHLevelPrefix+in.DASH.Level)
	floor := p.DefaultRAG.YoungChildFloor
	if anyPregnant(in) {
		r.raise(floor, ragReasonUnborn)
	}
	if anyChildUnderOne(in.Children, in.OccurredAt) {
		r.raise(floor, ragReasonUnderOne)
	}
	if samePartiesTotal >= p.DefaultRAG.SamePartiesIncidents {
		r.raise(p.DefaultRAG.SamePartiesFloor, ragReasonSameParties)
		r.CumulativeHarm = true
	}
	for _, c := range in.Children {
		r.AllocatedWorker = r.AllocatedWorker || c.CPPlan || c.OpenToCSC
	}
	return r
}

// raise applies a floor and records it as a reason when it applies at all,
// even when the rating was already at or above it, so the MASH sees every
// factor.
func (r *RAGProposal) raise(floor policy.RAG, reason string) {
	r.RAG = r.RAG.AtLeast(floor)
	r.Reasons = append(r.Reasons, reason)
}

// Flags returns the proposal as flags for the MASH notice.
func (r RAGProposal) Flags() []string {
	flags := []string{flagDefaultRAGPrefix + string(r.RAG)}
	for _, reason := range r.Reasons {
		flags = append(flags, flagRAGReasonPrefix+reason)
	}
	if r.CumulativeHarm {
		flags = append(flags, FlagCumulativeHarm)
	}
	if r.AllocatedWorker {
		flags = append(flags, FlagAllocatedWorkerSameDay)
	}
	return flags
}

func anyPregnant(in ppn.Incident) bool {
	for _, a := range in.Adults {
		if a.Pregnant {
			return true
		}
	}
	return false
}

func anyChildUnderOne(children []ppn.Child, at time.Time) bool {
	for _, c := range children {
		if age, ok := events.AgeYears(c.DateOfBirth, at); ok && age < 1 {
			return true
		}
	}
	return false
}

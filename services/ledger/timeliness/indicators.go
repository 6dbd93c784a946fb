package timeliness

import (
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// incidentCounts are the counts taken from the notices received in range.
type incidentCounts struct {
	incidents, children, present, voice, unborn, dashHigh, repeatParties int
}

// countIncident counts one incident, if it was received in range.
func (b *builder) countIncident(in projection.Incident) {
	at := in.ReceivedAt
	if !b.inRange(&at) {
		return
	}
	c := &b.incidents
	c.incidents++
	c.children += len(in.ChildIDs)
	c.present += in.ChildrenPresent
	c.voice += in.ChildrenWithVoice
	c.unborn += boolInt(in.UnbornVictim)
	c.dashHigh += boolInt(in.DASHLevel == ppn.DASHHigh)
	// The figure on the notice counts earlier incidents; with this
	// one, two earlier make the three of the repeat threshold.
	c.repeatParties += boolInt(in.SamePartiesIncidents12m >= 2)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addIndicators adds each theme's indicators from the counts.
func (b *builder) addIndicators() {
	c, notes, tri := b.incidents, b.notices, b.decisions
	b.totals.Incidents = c.incidents
	b.sections[0].Indicators = []Indicator{
		count("Incidents reported", "1", c.incidents),
		count("Children named on the notices", "1", c.children),
		shareOf("Children present at the incident", "1", c.present, c.children),
		shareOf("Children whose voice was recorded by the police", "2", c.voice, c.children),
		count("Incidents with a pregnant victim (an unborn child)", "1", c.unborn),
	}
	b.sections[1].Indicators = []Indicator{
		shareOf("Maternity notices (R13) for incidents with a pregnant victim", "11", notes.maternity, c.unborn),
		count("Incidents assessed as high risk (DASH)", "12", c.dashHigh),
		count("IDVA notices (R16)", "12", notes.idva),
	}
	b.sections[2].Indicators = []Indicator{
		count("MASH triage decisions", "4", tri.decisions),
		shareOf("Decisions that changed the proposed rating", "4", tri.overridden, tri.decisions),
		shareOf("Changed ratings with a reason recorded", "4", tri.withReason, tri.overridden),
	}
	b.sections[3].Indicators = []Indicator{
		shareOf("Incidents with three or more between the same parties in 12 months", "14", c.repeatParties, c.incidents),
		count("Notices marked repeat for a child (R17)", "14", notes.repeat),
		count("MARAC notices (R16)", "12", notes.marac),
		count("Probation notices (R15)", "13", notes.probation),
	}
}

type noticeCounts struct{ maternity, idva, marac, probation, repeat int }

// countNotice counts one notice, if it was requested in range.
func (b *builder) countNotice(n projection.Notification) {
	if !b.inRange(n.RequestedAt) {
		return
	}
	c := &b.notices
	c.maternity += boolInt(n.RuleID == "R13")
	c.idva += boolInt(n.RuleID == "R16" && n.RecipientKind == "idva")
	c.marac += boolInt(n.RuleID == "R16" && n.RecipientKind == "marac")
	c.probation += boolInt(n.RuleID == "R15")
	c.repeat += boolInt(n.Repeat)
}

type triageCounts struct{ decisions, overridden, withReason int }

// countTriage counts one triage decision, if it was made in range.
func (b *builder) countTriage(t projection.Triage) {
	at := t.DecidedAt
	if !b.inRange(&at) {
		return
	}
	c := &b.decisions
	c.decisions++
	c.overridden += boolInt(t.Overridden)
	c.withReason += boolInt(t.Overridden && t.ReasonGiven)
}

// leadershipIndicators summarise the whole period for theme 5.
func leadershipIndicators(t Totals) []Indicator {
	return []Indicator{
		count("Incidents reported", "15", t.Incidents),
		count("Notices sent", "15", t.Notifications),
		shareOf("Notices on time, of those whose outcome is known", "15", t.OnTime, t.Decided),
		count("Deadlines breached", "15", t.Breaches),
	}
}

func count(label, evidence string, n int) Indicator {
	return Indicator{Label: label, Evidence: evidence, Count: n}
}

func shareOf(label, evidence string, n, of int) Indicator {
	return Indicator{Label: label, Evidence: evidence, Count: n, Of: &of, Share: share(n, of)}
}

package simulate

import (
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// family is the household a notice is about. It is remembered so that a
// repeat incident names the same people, with the same NHS numbers and
// dates of birth, as the router must recognise them.
type family struct {
	area        *area
	victim      adultRecord
	perpetrator adultRecord
	other       *adultRecord
	children    []*childRecord
	// incidents and marac hold when the family's earlier incidents in the
	// feed happened, and those that met the MARAC criteria.
	incidents []time.Time
	marac     []time.Time
	// priorSameParties and priorMARAC are the police history from before
	// the feed began.
	priorSameParties int
	priorMARAC       bool
}

type adultRecord struct {
	name        string
	dob         calendar.Date
	gp          string
	onProbation bool
	mappa       *int
}

func (a adultRecord) asAdult(id, role string) ppn.Adult {
	adult := ppn.Adult{PersonID: id, Role: role, Name: a.name, DateOfBirth: a.dob.String(), GPODSCode: a.gp,
		OnProbation: a.onProbation}
	if a.mappa != nil {
		level := *a.mappa
		adult.MAPPALevel = &level
	}
	return adult
}

type childRecord struct {
	name      string
	dob       calendar.Date
	nhs       string
	gp        string
	openToCSC bool
	cpPlan    bool
	// education holds the setting drawn for each stage, so that a child
	// keeps their school from one incident to the next.
	education map[stage]*ppn.Education
}

// Shares of family features with no figure in the domain brief. [P]
const (
	femaleVictimShare    = 0.80
	otherAdultShare      = 0.10
	victimGPShare        = 0.70
	childGPShare         = 0.85
	childNHSShare        = 0.90
	openToCSCShare       = 0.12
	cpPlanShare          = 0.04
	priorMARACShare      = 0.04
	sharedSurnameShare   = 0.50
	perpetratorGPShare   = 0.40
	minParentAgeAtBirth  = 16
	youngestVictimAge    = 18
	victimAgeSpreadYears = 28
)

// priorSamePartiesWeights are the relative frequencies of 0, 1, 2, 3 and
// 4 earlier incidents between the same adults before the feed began. [P]
var priorSamePartiesWeights = []float64{0.75, 0.13, 0.07, 0.03, 0.02}

// mappaLevelWeights are the relative frequencies of MAPPA levels 1 to 3. [P]
var mappaLevelWeights = []float64{0.7, 0.2, 0.1}

func (g *Generator) newFamily(day calendar.Date) *family {
	f := &family{area: &g.world.areas[weighted(g.r, g.world.areaShare)]}
	familyName := surname(g.r)
	practice := g.practice()
	oldest := -1
	if g.r.Float64() < g.cfg.Mix.ChildShare {
		for range 1 + weighted(g.r, g.cfg.Mix.ChildrenWeights) {
			c := g.newChild(day, familyName, practice)
			oldest = max(oldest, ageOn(c.dob, day))
			f.children = append(f.children, c)
		}
	}
	victimAge := max(youngestVictimAge+g.r.IntN(victimAgeSpreadYears), oldest+minParentAgeAtBirth)
	f.victim = adultRecord{name: givenName(g.r, femaleVictimShare) + " " + familyName,
		dob: birthDate(g.r, day, victimAge), gp: g.maybe(victimGPShare, practice)}
	f.perpetrator = g.newPerpetrator(day, victimAge, familyName)
	if g.r.Float64() < otherAdultShare {
		f.other = &adultRecord{name: givenName(g.r, 0.5) + " " + surname(g.r),
			dob: birthDate(g.r, day, youngestVictimAge+g.r.IntN(50))}
	}
	f.priorSameParties = weighted(g.r, priorSamePartiesWeights)
	f.priorMARAC = g.r.Float64() < priorMARACShare
	return f
}

func (g *Generator) newPerpetrator(day calendar.Date, victimAge int, familyName string) adultRecord {
	name := surname(g.r)
	if g.r.Float64() < sharedSurnameShare {
		name = familyName
	}
	p := adultRecord{name: givenName(g.r, 1-femaleVictimShare) + " " + name,
		dob: birthDate(g.r, day, max(youngestVictimAge, victimAge-3+g.r.IntN(12))), gp: g.maybe(perpetratorGPShare, g.practice())}
	if g.r.Float64() < g.cfg.Mix.ProbationShare {
		p.onProbation = true
		if g.r.Float64() < g.cfg.Mix.MAPPAShare {
			level := 1 + weighted(g.r, mappaLevelWeights)
			p.mappa = &level
		}
	}
	return p
}

func (g *Generator) newChild(day calendar.Date, familyName, practice string) *childRecord {
	c := &childRecord{name: givenName(g.r, 0.5) + " " + familyName,
		dob: birthDate(g.r, day, weighted(g.r, childAgeWeights)), gp: g.maybe(childGPShare, practice),
		education: map[stage]*ppn.Education{}}
	if g.r.Float64() < childNHSShare {
		c.nhs = g.nhs.take()
	}
	c.cpPlan = g.r.Float64() < cpPlanShare
	c.openToCSC = c.cpPlan || g.r.Float64() < openToCSCShare
	return c
}

// practice picks a GP practice, or none when the reference data has none.
func (g *Generator) practice() string {
	if len(g.world.practices) == 0 {
		return ""
	}
	return pick(g.r, g.world.practices)
}

// maybe returns value with probability share, else "".
func (g *Generator) maybe(share float64, value string) string {
	if g.r.Float64() < share {
		return value
	}
	return ""
}

const year = 365 * 24 * time.Hour

// sameParties counts the family's incidents in the year before at,
// including police history from before the feed.
func (f *family) sameParties(at time.Time) int {
	return min(f.priorSameParties+countWithinYear(f.incidents, at), 999)
}

func (f *family) previousMARAC(at time.Time) bool {
	return f.priorMARAC || countWithinYear(f.marac, at) > 0
}

func countWithinYear(times []time.Time, at time.Time) int {
	n := 0
	for _, t := range times {
		if t.Before(at) && at.Sub(t) < year {
			n++
		}
	}
	return n
}

func (f *family) record(at time.Time, marac bool) {
	f.incidents = append(f.incidents, at)
	if marac {
		f.marac = append(f.marac, at)
	}
}

func (f *family) last() time.Time {
	if len(f.incidents) == 0 {
		return time.Time{}
	}
	return f.incidents[len(f.incidents)-1]
}

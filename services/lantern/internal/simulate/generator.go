// Package simulate is `lantern simulate`: a police feed of synthetic Public
// Protection Notices, realistic in their mix (children, DASH levels,
// pregnancies, probation, repeat families, weekend and holiday peaks) and
// plainly synthetic in their people, posted to the intake at a steady rate
// or as a burst such as a Monday-morning backlog.
//
// The generator is deterministic: the same seed, run tag, reference data and
// times give the same notices, so a load test or a failure can be rerun
// exactly.
package simulate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// Config shapes a feed.
type Config struct {
	// Seed makes the feed reproducible.
	Seed uint64
	Mix  Mix
	// Reference is where local authorities, schools and GP practices are
	// drawn from; any valid reference folder will do.
	Reference *refdata.Set
	// Force is the force_code of every notice.
	Force string
	// RunTag goes into every police reference and Idempotency-Key, so that
	// two runs with the same seed against one Lantern do not collide.
	RunTag string
	// Times places incidents in time.
	Times Times
}

var (
	forcePattern  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,31}$`)
	runTagPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)
)

func (c Config) validate() error {
	errs := []error{c.Mix.Validate()}
	if c.Reference == nil {
		errs = append(errs, errors.New("no reference data"))
	}
	if !forcePattern.MatchString(c.Force) {
		errs = append(errs, fmt.Errorf("force %q must be 2 to 32 upper-case letters, digits or underscores", c.Force))
	}
	if !runTagPattern.MatchString(c.RunTag) {
		errs = append(errs, fmt.Errorf("run tag %q must be 1 to 16 letters or digits", c.RunTag))
	}
	if c.Times == nil {
		errs = append(errs, errors.New("no times"))
	}
	return errors.Join(errs...)
}

// Notice is one generated PPN with what the feed knows about it.
type Notice struct {
	Incident       ppn.Incident
	IdempotencyKey string
	// Repeat is true when the notice is about a family seen earlier in the
	// feed.
	Repeat bool
}

// Body is the notice as the intake receives it.
func (n Notice) Body() ([]byte, error) {
	b, err := json.Marshal(n.Incident)
	if err != nil {
		return nil, fmt.Errorf("encoding notice %s: %w", n.Incident.PoliceReference, err)
	}
	return b, nil
}

// Generator produces a feed of notices. It is not safe for concurrent use.
type Generator struct {
	cfg      Config
	r        *rand.Rand
	world    *world
	nhs      *nhsNumbers
	families []*family
	count    int
}

// maxFamilies bounds the families remembered for repeats; a family not
// seen for this many incidents is, at any realistic rate, over a year old.
const maxFamilies = 1 << 14

// New returns a generator for cfg.
func New(cfg Config) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("configuring the feed: %w", err)
	}
	w, err := newWorld(cfg.Reference)
	if err != nil {
		return nil, err
	}
	return &Generator{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, 0x6c616e7465726e)), world: w,
		nhs: newNHSNumbers(cfg.Seed)}, nil
}

// Next returns the next notice of the feed.
func (g *Generator) Next() Notice {
	g.count++
	occurred, reported := g.cfg.Times.Next(g.r)
	day := calendar.DateOf(occurred.In(calendar.London))
	f, repeat := g.repeatFamily(occurred)
	if f == nil {
		f = g.newFamily(day)
		g.remember(f)
	}
	in := g.incident(f, occurred, reported, day)
	f.record(occurred, maracCriteria(in))
	return Notice{Incident: in, IdempotencyKey: "sim-" + g.cfg.RunTag + "-" + strconv.Itoa(g.count), Repeat: repeat}
}

// repeatFamily picks, with the mix's repeat share, a family whose last
// incident was within the year before occurred.
func (g *Generator) repeatFamily(occurred time.Time) (*family, bool) {
	if len(g.families) == 0 || g.r.Float64() >= g.cfg.Mix.RepeatShare {
		return nil, false
	}
	for range 8 {
		f := pick(g.r, g.families)
		if last := f.last(); last.Before(occurred) && occurred.Sub(last) < year {
			return f, true
		}
	}
	return nil, false
}

func (g *Generator) remember(f *family) {
	if len(g.families) < maxFamilies {
		g.families = append(g.families, f)
		return
	}
	g.families[g.count%maxFamilies] = f
}

func (g *Generator) incident(f *family, occurred, reported time.Time, day calendar.Date) ppn.Incident {
	dash := g.dash()
	sameParties := f.sameParties(occurred)
	in := ppn.Incident{
		ForceCode:               g.cfg.Force,
		PoliceReference:         fmt.Sprintf("%s-%s-%07d", g.cfg.Force, g.cfg.RunTag, g.count),
		OccurredAt:              occurred,
		ReportedAt:              reported,
		LocalAuthorityCode:      f.area.code,
		Location:                &ppn.Location{Description: pick(g.r, places)},
		DASH:                    dash,
		IncidentsSameParties12m: sameParties,
		PreviousMARACWithin12m:  f.previousMARAC(occurred),
		Adults:                  g.adults(f, day),
		Children:                g.children(f, day),
		Circumstances:           pick(g.r, circumstances),
		Officer: &ppn.Officer{ID: fmt.Sprintf("SIM-%04d", g.r.IntN(10000)), Name: "PC " + surname(g.r),
			Contact: fmt.Sprintf("01632 960%03d", g.r.IntN(1000))},
	}
	return in
}

// dash draws a DASH level and a yes count consistent with it: 14 or more
// yeses is visible high risk, and a high level below that rests on
// professional judgement.
func (g *Generator) dash() ppn.DASH {
	levels, shares := g.cfg.Mix.DASH.levels()
	d := ppn.DASH{Level: levels[weighted(g.r, shares)]}
	yes := 0
	switch d.Level {
	case ppn.DASHNotCompleted:
		return d
	case ppn.DASHStandard:
		yes = g.r.IntN(10)
	case ppn.DASHMedium:
		yes = 10 + g.r.IntN(4)
	case ppn.DASHHigh:
		if g.r.Float64() < 0.3 {
			d.ProfessionalJudgementHigh = true
			yes = 8 + g.r.IntN(6)
		} else {
			yes = 14 + g.r.IntN(9)
		}
	}
	d.YesCount = &yes
	return d
}

func (g *Generator) adults(f *family, day calendar.Date) []ppn.Adult {
	victim := f.victim.asAdult("P-1", ppn.RoleVictim)
	if g.r.Float64() < g.cfg.Mix.PregnantShare {
		victim.Pregnant = true
		victim.ExpectedDueDate = day.AddDays(7 + g.r.IntN(264)).String()
	}
	adults := []ppn.Adult{victim, f.perpetrator.asAdult("P-2", ppn.RolePerpetrator)}
	if f.other != nil {
		adults = append(adults, f.other.asAdult("P-3", ppn.RoleOther))
	}
	return adults
}

// children lists the family's children still under 18 on day, each
// placed in the setting their age calls for.
func (g *Generator) children(f *family, day calendar.Date) []ppn.Child {
	out := []ppn.Child{}
	for _, c := range f.children {
		age := ageOn(c.dob, day)
		if age >= ppn.AdultAgeYears {
			continue
		}
		child := ppn.Child{
			PersonID: "C-" + strconv.Itoa(len(out)+1), Name: c.name, DateOfBirth: c.dob.String(),
			Present: g.r.Float64() < g.cfg.Mix.PresentShare, Education: g.education(f, c, age),
			GPODSCode: c.gp, NHSNumber: c.nhs, OpenToCSC: c.openToCSC, CPPlan: c.cpPlan,
		}
		if child.Present && age >= 4 && g.r.Float64() < 0.4 {
			child.VoiceOfChild = pick(g.r, voices)
		}
		out = append(out, child)
	}
	return out
}

// education returns where a child of this age is educated, keeping the
// setting chosen for the stage at an earlier incident.
func (g *Generator) education(f *family, c *childRecord, age int) *ppn.Education {
	s := stageOf(age)
	e, ok := c.education[s]
	if !ok {
		e = g.drawEducation(f, s)
		c.education[s] = e
	}
	if e == nil {
		return nil
	}
	cp := *e
	return &cp
}

// Shares of children outside a school roll, by stage. [P]
const (
	earlyYearsShare   = 0.20 // of under-4s, at a registered setting
	earlyNoneShare    = 0.25 // of under-4s, recorded as none
	homeEducatedShare = 0.015
	post16NoneShare   = 0.08
)

func (g *Generator) drawEducation(f *family, s stage) *ppn.Education {
	x := g.r.Float64()
	switch {
	case s == stageEarly && x < earlyYearsShare:
		if e := g.enrol(f, s); e != nil {
			return e
		}
		return &ppn.Education{Type: ppn.EducationNone}
	case s == stageEarly && x < earlyYearsShare+earlyNoneShare:
		return &ppn.Education{Type: ppn.EducationNone}
	case s == stageEarly:
		return nil
	case x < homeEducatedShare:
		return &ppn.Education{Type: ppn.EducationHomeEducated}
	case s == stagePost16 && x < homeEducatedShare+post16NoneShare:
		return &ppn.Education{Type: ppn.EducationNone}
	}
	if e := g.enrol(f, s); e != nil {
		return e
	}
	return &ppn.Education{Type: ppn.EducationNone}
}

// enrol picks a setting for the stage, near home if possible; nil when the
// reference data has none anywhere.
func (g *Generator) enrol(f *family, s stage) *ppn.Education {
	list := g.world.settingsFor(f.area, s)
	if len(list) == 0 {
		return nil
	}
	weights := make([]float64, len(list))
	for i, st := range list {
		weights[i] = st.weight
	}
	st := list[weighted(g.r, weights)]
	return &ppn.Education{Type: st.educationType, URN: st.urn}
}

// maracCriteria reports whether an incident meets SafeLives' MARAC
// referral criteria, so that the family's next incident can say it had a
// MARAC within 12 months.
func maracCriteria(in ppn.Incident) bool {
	yes := in.DASH.YesCount != nil && *in.DASH.YesCount >= 14
	return yes || in.DASH.ProfessionalJudgementHigh || in.IncidentsSameParties12m >= 3 || in.PreviousMARACWithin12m
}

package chaos

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// ForceCode is the force every generated notice comes from; the cluster's
// police token may act for any force.
const ForceCode = "KENT"

// Generator makes valid, unique notices from the shipped reference data.
// Every notice has its own police reference, so each one is a new incident
// under the natural key, and the children, schools, GP practices and risk
// levels vary so that the router decides different sets of recipients.
// Generator is not safe for concurrent use.
type Generator struct {
	tag     string
	rng     *rand.Rand
	now     func() time.Time
	areas   []string
	schools []refdata.School
	gps     []string
	seq     int
}

// NewGenerator returns a generator whose police references all start with
// tag, drawing its choices from seed so that a run can be repeated.
func NewGenerator(ref *refdata.Set, tag string, seed uint64, now func() time.Time) (*Generator, error) {
	g := &Generator{tag: tag, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now,
		schools: ref.Schools()}
	for _, la := range ref.LocalAuthorities() {
		g.areas = append(g.areas, la.Code)
	}
	for _, p := range ref.GPPractices() {
		g.gps = append(g.gps, p.ODSCode)
	}
	if len(g.areas) == 0 || len(g.schools) == 0 || len(g.gps) == 0 {
		return nil, fmt.Errorf("generating notices: the reference data needs local authorities, schools and GP practices")
	}
	return g, nil
}

// Notice is one generated notice with the keys a client sends it under.
type Notice struct {
	Reference      string
	IdempotencyKey string
	Body           []byte
}

// Next returns a new notice.
func (g *Generator) Next() (Notice, error) {
	g.seq++
	in := g.incident()
	body, err := json.Marshal(in)
	if err != nil {
		return Notice{}, fmt.Errorf("encoding notice %s: %w", in.PoliceReference, err)
	}
	return Notice{Reference: in.PoliceReference, IdempotencyKey: "chaos-" + in.PoliceReference, Body: body}, nil
}

func (g *Generator) incident() ppn.Incident {
	now := g.now().UTC().Truncate(time.Second)
	occurred := now.Add(-time.Duration(1+g.rng.IntN(72*60)) * time.Minute)
	reported := occurred.Add(time.Duration(5+g.rng.IntN(55)) * time.Minute)
	if reported.After(now) {
		reported = now
	}
	in := ppn.Incident{
		ForceCode:               ForceCode,
		PoliceReference:         fmt.Sprintf("CH-%s-%06d", g.tag, g.seq),
		OccurredAt:              occurred,
		ReportedAt:              reported,
		LocalAuthorityCode:      pick(g.rng, g.areas),
		Location:                &ppn.Location{Postcode: pick(g.rng, postcodes), Description: "home address"},
		DASH:                    g.dash(),
		IncidentsSameParties12m: g.rng.IntN(4),
		PreviousMARACWithin12m:  g.rng.IntN(10) == 0,
		Adults:                  g.adults(occurred),
		Children:                []ppn.Child{},
		Circumstances:           "generated for a fault run",
		Officer:                 &ppn.Officer{ID: "KNT-" + strconv.Itoa(1000+g.rng.IntN(9000)), Name: "PC Test"},
	}
	for i := range 1 + g.rng.IntN(3) {
		in.Children = append(in.Children, g.child(i, occurred))
	}
	return in
}

// postcodes are well-formed postcodes in the sample areas.
var postcodes = []string{"ME4 4TR", "ME1 1AA", "ME7 2EH", "DA5 1AA", "CT1 2EH", "TN9 1RA"}

func (g *Generator) dash() ppn.DASH {
	levels := []string{ppn.DASHStandard, ppn.DASHMedium, ppn.DASHHigh, ppn.DASHNotCompleted}
	d := ppn.DASH{Level: pick(g.rng, levels), ProfessionalJudgementHigh: g.rng.IntN(8) == 0}
	if d.Level != ppn.DASHNotCompleted {
		yes := g.rng.IntN(25)
		d.YesCount = &yes
	}
	return d
}

func (g *Generator) adults(occurred time.Time) []ppn.Adult {
	victim := ppn.Adult{PersonID: "P-1", Role: ppn.RoleVictim, Name: g.name("Adult"),
		DateOfBirth: birthDate(occurred, 18+g.rng.IntN(40), g.rng), GPODSCode: pick(g.rng, g.gps)}
	if g.rng.IntN(5) == 0 {
		victim.Pregnant = true
		victim.ExpectedDueDate = occurred.AddDate(0, 1+g.rng.IntN(7), 0).Format(time.DateOnly)
	}
	perpetrator := ppn.Adult{PersonID: "P-2", Role: ppn.RolePerpetrator, Name: g.name("Adult"),
		DateOfBirth: birthDate(occurred, 18+g.rng.IntN(40), g.rng), OnProbation: g.rng.IntN(4) == 0}
	return []ppn.Adult{victim, perpetrator}
}

func (g *Generator) child(i int, occurred time.Time) ppn.Child {
	c := ppn.Child{PersonID: "C-" + strconv.Itoa(i+1), Name: g.name("Child"),
		DateOfBirth: birthDate(occurred, g.rng.IntN(17), g.rng), Present: g.rng.IntN(3) > 0,
		GPODSCode: pick(g.rng, g.gps), NHSNumber: NHSNumber(g.rng), OpenToCSC: g.rng.IntN(6) == 0}
	switch n := g.rng.IntN(10); {
	case n < 8:
		c.Education = &ppn.Education{Type: ppn.EducationSchool, URN: pick(g.rng, g.schools).URN}
	case n == 8:
		c.Education = &ppn.Education{Type: ppn.EducationHomeEducated}
	default:
		c.Education = &ppn.Education{Type: ppn.EducationNone}
	}
	return c
}

// name is unique per notice, so that no two generated incidents look like
// repeats of the same child or the same pair of adults.
func (g *Generator) name(role string) string {
	return fmt.Sprintf("%s %s-%d-%d", role, g.tag, g.seq, g.rng.IntN(1_000_000))
}

// birthDate is a date of birth making someone age whole years old on the
// day before the incident.
func birthDate(occurred time.Time, age int, rng *rand.Rand) string {
	return occurred.AddDate(-age, 0, -1-rng.IntN(300)).Format(time.DateOnly)
}

// NHSNumber returns a random ten-digit number that passes the modulus 11
// check, drawing again when the nine digits have no valid check digit.
func NHSNumber(rng *rand.Rand) string {
	for {
		digits := make([]byte, 10)
		sum := 0
		for i := range 9 {
			d := rng.IntN(10)
			digits[i] = byte('0' + d)
			sum += d * (10 - i)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check == 10 {
			continue
		}
		digits[9] = byte('0' + check)
		return string(digits)
	}
}

func pick[T any](rng *rand.Rand, from []T) T { return from[rng.IntN(len(from))] }

package simulate

import (
	"errors"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// stage is a child's stage of education, by age on the incident's date.
type stage int

const (
	stageEarly     stage = iota // 0 to 3: before reception
	stagePrimary                // 4 to 10: reception to year 6
	stageSecondary              // 11 to 15
	stagePost16                 // 16 and 17
)

func stageOf(age int) stage {
	switch {
	case age < 4:
		return stageEarly
	case age < 11:
		return stagePrimary
	case age < 16:
		return stageSecondary
	}
	return stagePost16
}

// setting is one place a child of some stage may be on the roll of.
type setting struct {
	urn           string
	educationType string
	weight        float64
}

// placement says which stages a phase of school takes, as what type of
// education, and how common it is among settings of those stages. [P]
type placement struct {
	stage         stage
	educationType string
	weight        float64
}

var placements = map[refdata.Phase][]placement{
	refdata.PhaseNursery: {{stageEarly, ppn.EducationEarlyYears, 1}},
	refdata.PhasePrimary: {{stagePrimary, ppn.EducationSchool, 10}},
	refdata.PhaseMiddle:  {{stagePrimary, ppn.EducationSchool, 2}, {stageSecondary, ppn.EducationSchool, 2}},
	refdata.PhaseSecondary: {{stageSecondary, ppn.EducationSchool, 10},
		{stagePost16, ppn.EducationSchool, 3}},
	refdata.PhaseAllThrough: {{stagePrimary, ppn.EducationSchool, 3}, {stageSecondary, ppn.EducationSchool, 3},
		{stagePost16, ppn.EducationSchool, 1}},
	refdata.PhaseSpecial: {{stagePrimary, ppn.EducationSchool, 1}, {stageSecondary, ppn.EducationSchool, 1},
		{stagePost16, ppn.EducationSchool, 0.5}},
	refdata.PhaseAlternativeProvision: {{stageSecondary, ppn.EducationSchool, 0.5}},
	refdata.PhaseSixteenToNineteen:    {{stagePost16, ppn.EducationSixteenToNineteen, 4}},
	refdata.PhaseFurtherEducation:     {{stagePost16, ppn.EducationFE, 5}},
	refdata.PhaseSchool:               {{stagePrimary, ppn.EducationSchool, 5}, {stageSecondary, ppn.EducationSchool, 5}},
	refdata.PhaseNotApplicable:        {{stagePrimary, ppn.EducationSchool, 1}, {stageSecondary, ppn.EducationSchool, 1}},
}

// area is one local authority with the settings its children attend.
type area struct {
	code     string
	weight   float64
	settings map[stage][]setting
}

// world is what the generator draws places from: the reference data's
// local authorities, their settings and the GP practices.
type world struct {
	areas     []area
	areaShare []float64
	anywhere  map[stage][]setting
	practices []string
}

// newWorld indexes a reference set. Local authorities are weighted by
// their number of settings, a rough stand-in for population.
func newWorld(ref *refdata.Set) (*world, error) {
	w := &world{anywhere: map[stage][]setting{}}
	index := map[string]int{}
	for _, la := range ref.LocalAuthorities() {
		index[la.Code] = len(w.areas)
		w.areas = append(w.areas, area{code: la.Code, weight: 1, settings: map[stage][]setting{}})
	}
	if len(w.areas) == 0 {
		return nil, errors.New("the reference data has no local authority to simulate")
	}
	for _, school := range ref.Schools() {
		a := &w.areas[index[school.LocalAuthorityCode]]
		a.weight++
		for _, p := range placements[school.Phase] {
			s := setting{urn: school.URN, educationType: p.educationType, weight: p.weight}
			a.settings[p.stage] = append(a.settings[p.stage], s)
			w.anywhere[p.stage] = append(w.anywhere[p.stage], s)
		}
	}
	for _, a := range w.areas {
		w.areaShare = append(w.areaShare, a.weight)
	}
	for _, p := range ref.GPPractices() {
		w.practices = append(w.practices, p.ODSCode)
	}
	return w, nil
}

// settingsFor returns the settings of a stage in an area, or anywhere when
// the area has none: children do cross local authority borders to school.
func (w *world) settingsFor(a *area, s stage) []setting {
	if list := a.settings[s]; len(list) > 0 {
		return list
	}
	return w.anywhere[s]
}

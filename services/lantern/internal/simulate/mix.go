package simulate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
)

// Mix is the make-up of a simulated feed: how often each feature of a
// notice occurs. Each default names its source: a figure from domain.md
// section 6 where one exists, otherwise Lantern's own assumption, marked
// [P] as the domain brief marks proposals.
type Mix struct {
	// ChildShare is the share of incidents with at least one linked child:
	// 24.6% in Leeds over the 12 months to March 2025.
	ChildShare float64
	// ChildrenWeights are the relative frequencies of 1, 2, 3, ... children
	// in an incident that has any. The default averages 1.28 children, the
	// Leeds figure (6,988 children in 5,473 incidents).
	ChildrenWeights []float64
	// DASH is the share of each DASH risk level. [P]: no national split
	// was found; high is set near the MARAC case rate (about 109,000 cases
	// against about 1.4 million incidents and crimes).
	DASH DASHShares
	// PregnantShare is the share of incidents whose victim is pregnant. [P]
	PregnantShare float64
	// ProbationShare is the share of perpetrators on probation. [P]: HMIP
	// found about 30% of people on probation were DA perpetrators, which
	// says nothing of the reverse share.
	ProbationShare float64
	// MAPPAShare is the share of those on probation who are also managed
	// under MAPPA. [P]
	MAPPAShare float64
	// RepeatShare is the share of incidents that involve a family already
	// seen in the feed within 12 months. [P], near SafeLives' 32% MARAC
	// repeat rate.
	RepeatShare float64
	// PresentShare is the share of linked children present at the
	// incident. [P]
	PresentShare float64
}

// DASHShares are the shares of the four DASH levels; they sum to 1.
type DASHShares struct {
	Standard, Medium, High, NotCompleted float64
}

// DefaultMix returns the mix described on Mix.
func DefaultMix() Mix {
	return Mix{
		ChildShare:      0.246,
		ChildrenWeights: []float64{0.78, 0.17, 0.04, 0.01},
		DASH:            DASHShares{Standard: 0.55, Medium: 0.30, High: 0.10, NotCompleted: 0.05},
		PregnantShare:   0.03,
		ProbationShare:  0.08,
		MAPPAShare:      0.15,
		RepeatShare:     0.30,
		PresentShare:    0.75,
	}
}

// MeanChildren is the average number of children in an incident that has
// any, under the mix's weights.
func (m Mix) MeanChildren() float64 {
	var total, weighted float64
	for i, w := range m.ChildrenWeights {
		total += w
		weighted += w * float64(i+1)
	}
	if total == 0 {
		return 0
	}
	return weighted / total
}

// Validate reports every share outside 0 to 1, and DASH shares that do
// not sum to 1.
func (m Mix) Validate() error {
	var errs []error
	for _, s := range []struct {
		name  string
		value float64
	}{
		{"child share", m.ChildShare}, {"pregnant share", m.PregnantShare},
		{"probation share", m.ProbationShare}, {"MAPPA share", m.MAPPAShare},
		{"repeat share", m.RepeatShare}, {"present share", m.PresentShare},
		{"DASH standard", m.DASH.Standard}, {"DASH medium", m.DASH.Medium},
		{"DASH high", m.DASH.High}, {"DASH not_completed", m.DASH.NotCompleted},
	} {
		if s.value < 0 || s.value > 1 {
			errs = append(errs, fmt.Errorf("%s must be between 0 and 1, got %g", s.name, s.value))
		}
	}
	if sum := m.DASH.Standard + m.DASH.Medium + m.DASH.High + m.DASH.NotCompleted; sum < 0.999 || sum > 1.001 {
		errs = append(errs, fmt.Errorf("DASH shares must sum to 1, got %g", sum))
	}
	if m.MeanChildren() == 0 {
		errs = append(errs, errors.New("children weights must include a positive weight"))
	}
	for _, w := range m.ChildrenWeights {
		if w < 0 {
			errs = append(errs, errors.New("children weights must not be negative"))
			break
		}
	}
	return errors.Join(errs...)
}

// levels returns the DASH levels and their shares, in a fixed order so
// that draws are deterministic.
func (d DASHShares) levels() ([]string, []float64) {
	return []string{ppn.DASHStandard, ppn.DASHMedium, ppn.DASHHigh, ppn.DASHNotCompleted},
		[]float64{d.Standard, d.Medium, d.High, d.NotCompleted}
}

// parseDASH reads "standard=0.55,medium=0.3,high=0.1,not_completed=0.05";
// levels not named get 0.
func parseDASH(s string) (DASHShares, error) {
	var d DASHShares
	targets := map[string]*float64{ppn.DASHStandard: &d.Standard, ppn.DASHMedium: &d.Medium,
		ppn.DASHHigh: &d.High, ppn.DASHNotCompleted: &d.NotCompleted}
	for part := range strings.SplitSeq(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		target, known := targets[name]
		if !ok || !known {
			return DASHShares{}, fmt.Errorf("DASH share %q is not level=share with a level of standard, medium, high or not_completed", part)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return DASHShares{}, fmt.Errorf("DASH share %q: %w", part, err)
		}
		*target = v
	}
	return d, nil
}

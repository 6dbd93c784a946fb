package timeliness

// RuleTotal is one rule, recipient kind and step over every month of a
// report: what the charts of the report and of the auditor's page show.
type RuleTotal struct {
	RuleID, RecipientKind, Step string
	// OnTime counts notices on time; Known those whose outcome is known
	// (Count less Pending), which the share is a share of.
	OnTime, Known int
}

// Share is OnTime over Known, or nil when no outcome is known yet.
func (t RuleTotal) Share() *float64 { return share(t.OnTime, t.Known) }

// TotalsByRule adds each rule's months together, keeping the rows' order.
func TotalsByRule(rows []Row) []RuleTotal {
	type key struct{ rule, kind, step string }
	var out []RuleTotal
	index := map[key]int{}
	for _, r := range rows {
		k := key{r.RuleID, r.RecipientKind, r.Step}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, RuleTotal{RuleID: r.RuleID, RecipientKind: r.RecipientKind, Step: r.Step})
		}
		out[i].OnTime += r.OnTime
		out[i].Known += r.Count - r.Pending
	}
	return out
}

// Band is how a share on time reads at a glance.
type Band string

// The bands: 95% on time or more is good, 80% or more fair, less poor;
// none when nothing is known yet.
const (
	BandNone Band = "none"
	BandGood Band = "good"
	BandFair Band = "fair"
	BandPoor Band = "poor"
)

// BandOf places a share in its band.
func BandOf(s *float64) Band {
	switch {
	case s == nil:
		return BandNone
	case *s >= 0.95:
		return BandGood
	case *s >= 0.8:
		return BandFair
	}
	return BandPoor
}

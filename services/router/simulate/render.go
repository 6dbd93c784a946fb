package simulate

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText writes the report as plain text tables.
func WriteText(w io.Writer, rep Report) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Policy simulation %s to %s\n", rep.From, rep.To)
	fmt.Fprintf(tw, "baseline %s (%s)\nproposed %s (%s)\n", rep.Baseline.Version, rep.Baseline.File, rep.Proposed.Version, rep.Proposed.File)
	fmt.Fprintf(tw, "%d incidents routed again; %d notices recorded for them; %d incidents unreadable (shredded)\n\n",
		rep.Incidents, rep.Recorded, rep.Unreadable)
	for _, section := range []struct {
		title string
		rows  []Count
	}{{"by rule", rep.ByRule}, {"by recipient kind", rep.ByKind}, {"by organisation", rep.ByOrganisation}, {"total", []Count{rep.Totals}}} {
		fmt.Fprintf(tw, "%s\tbefore\tafter\tadded\tremoved\tdeadlines moved\t\n", section.title)
		for _, c := range section.rows {
			label := c.Key
			if c.Name != "" {
				label += " " + c.Name
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t+%d\t-%d\t%d\t\n", label, c.Before, c.After, c.Added, c.Removed, c.Moved)
		}
		fmt.Fprintln(tw, "\t\t\t\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "weekly load (week from Monday)\tweek\tbefore\tafter")
	for _, l := range rep.Weekly {
		fmt.Fprintf(tw, "%s %s\t%s\t%d\t%d\n", l.Organisation, l.Name, l.Week, l.Before, l.After)
	}
	if len(rep.Moved) > 0 {
		fmt.Fprintln(tw, "\ndeadlines moved\trule\tbefore\tafter")
		for _, m := range rep.Moved {
			fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", m.IncidentID, m.Recipient, m.RuleID, m.Before.Format("2006-01-02 15:04Z"), m.After.Format("2006-01-02 15:04Z"))
		}
	}
	return tw.Flush()
}

//go:embed report.html.tmpl
var templates embed.FS

var page = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{"bars": bars, "weeks": weekCharts, "dict": dict,
	"add": func(a int, b ...int) int {
		for _, x := range b {
			a += x
		}
		return a
	},
	"sub": func(a, b int) int { return a - b }}).
	ParseFS(templates, "report.html.tmpl"))

// WriteHTML writes the report as one self-contained page with its charts
// drawn in SVG: no script, no font, nothing fetched.
func WriteHTML(w io.Writer, rep Report) error { return page.Execute(w, rep) }

// bar is one row of a before/after bar chart.
type bar struct {
	Label                      string
	Before, After              int
	BeforeWidth, AfterWidth, Y int
}

// barChart is a before/after chart of counts.
type barChart struct {
	Bars   []bar
	Height int
}

const chartWidth = 420

func bars(rows []Count) barChart {
	most := 1
	for _, r := range rows {
		most = max(most, r.Before, r.After)
	}
	c := barChart{}
	for i, r := range rows {
		c.Bars = append(c.Bars, bar{Label: r.Key, Before: r.Before, After: r.After,
			BeforeWidth: r.Before * chartWidth / most, AfterWidth: r.After * chartWidth / most, Y: i * 30})
	}
	c.Height = len(rows)*30 + 10
	return c
}

// weekChart is one organisation's weekly load, before and after.
type weekChart struct {
	Organisation, Name string
	Changed            bool
	Weeks              []weekColumn
	Width              int
}

type weekColumn struct {
	Week                         string
	Before, After                int
	X, BeforeHeight, AfterHeight int
}

const weekHeight = 80

// weekCharts draws the organisations whose load changes first.
func weekCharts(loads []WeeklyLoad) []weekChart {
	var charts []weekChart
	index := map[string]int{}
	most := 1
	for _, l := range loads {
		most = max(most, l.Before, l.After)
	}
	for _, l := range loads {
		i, ok := index[l.Organisation]
		if !ok {
			i = len(charts)
			index[l.Organisation] = i
			charts = append(charts, weekChart{Organisation: l.Organisation, Name: l.Name})
		}
		c := &charts[i]
		c.Changed = c.Changed || l.Before != l.After
		c.Weeks = append(c.Weeks, weekColumn{Week: l.Week, Before: l.Before, After: l.After, X: len(c.Weeks) * 36,
			BeforeHeight: l.Before * weekHeight / most, AfterHeight: l.After * weekHeight / most})
		c.Width = len(c.Weeks)*36 + 10
	}
	slices.SortStableFunc(charts, func(a, b weekChart) int {
		if a.Changed != b.Changed {
			if a.Changed {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Organisation, b.Organisation)
	})
	return charts
}

// dict builds a template's argument from pairs of names and values.
func dict(pairs ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[fmt.Sprint(pairs[i])] = pairs[i+1]
	}
	return m
}

package timeliness

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"percent":  percent,
	"duration": seconds,
	"when":     whenPtr,
	"channel":  ChannelName,
}).Parse(htmlSource))

// ChannelName says in words what carried a notice.
func ChannelName(channel string) string {
	switch channel {
	case "inbox":
		return "Lantern inbox"
	case "email":
		return "E-mail"
	case "notify_email":
		return "GOV.UK Notify e-mail"
	case "notify_sms":
		return "GOV.UK Notify text message"
	case "webhook":
		return "Webhook to the recipient's system"
	}
	return channel
}

// WriteHTML writes the report as one self-contained page: its styles and
// charts (SVG) are inline and it loads nothing, so it can be mailed to a
// board or opened offline.
func WriteHTML(w io.Writer, r Report) error {
	if err := htmlTemplate.Execute(w, newHTMLView(r)); err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	return nil
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return clockTime(*t)
}

// htmlView is the report with its charts laid out.
type htmlView struct {
	Report
	AsOfText string
	Months   monthChart
	Sections []sectionView
}

type sectionView struct {
	ThemeSection
	Bars barChart
}

func newHTMLView(r Report) htmlView {
	v := htmlView{Report: r, AsOfText: clockTime(r.AsOf), Months: newMonthChart(r.Months)}
	for _, th := range r.Themes {
		v.Sections = append(v.Sections, sectionView{ThemeSection: th, Bars: newBarChart(th.Rows)})
	}
	return v
}

// Chart geometry, in SVG user units.
const (
	barLabelWidth = 230
	barAreaWidth  = 380
	barRowHeight  = 28
	colWidth      = 56
	colGap        = 24
	colAreaHeight = 180
)

// barChart shows, for each rule, recipient and step, the share on time
// over the whole period.
type barChart struct {
	Height int
	Bars   []bar
}

type bar struct {
	Y, TextY     int
	Label, Share string
	Width        float64
	Colour       string
}

func newBarChart(rows []Row) barChart {
	var c barChart
	for i, t := range TotalsByRule(rows) {
		y := i * barRowHeight
		label := fmt.Sprintf("%s %s (%s)", t.RuleID, t.RecipientKind, t.Step)
		b := bar{Y: y + 4, TextY: y + 19, Label: label, Share: percent(t.Share()), Colour: bandColours[BandOf(t.Share())]}
		if s := t.Share(); s != nil {
			b.Width = *s * barAreaWidth
		}
		b.Share += fmt.Sprintf(" (%d of %d)", t.OnTime, t.Known)
		c.Bars = append(c.Bars, b)
	}
	c.Height = len(c.Bars)*barRowHeight + 24
	return c
}

// bandColours colour the share bands; the text beside each bar says the
// same, so that colour is never the only cue.
var bandColours = map[Band]string{BandNone: "#9e9e9e", BandGood: "#2e7d32", BandFair: "#b26a00", BandPoor: "#c62828"}

// monthChart stacks each month's notices: on time, not on time, pending.
type monthChart struct {
	Width, Height int
	Columns       []column
}

type column struct {
	X, LabelX, ShareY                   int
	OnTimeY, OnTimeH, MissedY, MissedH  float64
	PendingY, PendingH                  float64
	Month, Share                        string
	Notifications, OnTime, Missed, Open int
}

func newMonthChart(months []MonthTotal) monthChart {
	most := 1
	for _, m := range months {
		most = max(most, m.Notifications)
	}
	scale := float64(colAreaHeight) / float64(most)
	c := monthChart{Width: max(1, len(months))*(colWidth+colGap) + colGap, Height: colAreaHeight + 50}
	for i, m := range months {
		c.Columns = append(c.Columns, newColumn(i, m, scale))
	}
	return c
}

func newColumn(i int, m MonthTotal, scale float64) column {
	x := colGap + i*(colWidth+colGap)
	missed, open := m.Decided-m.OnTime, m.Notifications-m.Decided
	base := float64(colAreaHeight + 20)
	col := column{X: x, LabelX: x + colWidth/2, Month: m.Month, Share: percent(m.ShareOnTime),
		Notifications: m.Notifications, OnTime: m.OnTime, Missed: missed, Open: open}
	col.OnTimeH = float64(m.OnTime) * scale
	col.OnTimeY = base - col.OnTimeH
	col.MissedH = float64(missed) * scale
	col.MissedY = col.OnTimeY - col.MissedH
	col.PendingH = float64(open) * scale
	col.PendingY = col.MissedY - col.PendingH
	col.ShareY = int(col.PendingY) - 6
	return col
}

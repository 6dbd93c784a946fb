package web

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

// auditPage is the timeliness report page: the period form, and the
// report with its charts once the form is right.
type auditPage struct {
	// From and To are the form's values, as typed.
	From, To string
	// Report is nil when the form needs correcting.
	Report *timeliness.Report
	Months monthChart
	Themes []themeView
}

// themeView is one theme of the report with its chart.
type themeView struct {
	timeliness.ThemeSection
	Bars barChart
}

func newAuditPage(from, to string, rep *timeliness.Report) auditPage {
	p := auditPage{From: from, To: to, Report: rep}
	if rep == nil {
		return p
	}
	p.Months = newMonthChart(rep.Months)
	for _, th := range rep.Themes {
		p.Themes = append(p.Themes, themeView{ThemeSection: th, Bars: newBarChart(th.Rows)})
	}
	return p
}

// Chart geometry, in SVG user units. The charts are drawn on the server
// and coloured by classes in the style sheet, so the pages stay free of
// script and inline styles; every figure a chart shows is also in a table.
const (
	columnWidth    = 56
	columnGap      = 24
	columnArea     = 180
	barLabelSpace  = 260
	barArea        = 380
	barRowHeight   = 28
	barChartMargin = 24
)

// monthChart stacks each month's notices: on time, not on time, not yet
// due.
type monthChart struct {
	Width, Height int
	Columns       []monthColumn
}

type monthColumn struct {
	Month, Share                        string
	Notifications, OnTime, Missed, Open int
	X, LabelX, ShareY, MonthY           int
	OnTimeY, OnTimeH, MissedY, MissedH  float64
	OpenY, OpenH                        float64
}

func newMonthChart(months []timeliness.MonthTotal) monthChart {
	most := 1
	for _, m := range months {
		most = max(most, m.Notifications)
	}
	scale := float64(columnArea) / float64(most)
	c := monthChart{Width: max(1, len(months))*(columnWidth+columnGap) + columnGap, Height: columnArea + 50}
	for i, m := range months {
		c.Columns = append(c.Columns, newMonthColumn(i, m, scale))
	}
	return c
}

func newMonthColumn(i int, m timeliness.MonthTotal, scale float64) monthColumn {
	x := columnGap + i*(columnWidth+columnGap)
	col := monthColumn{Month: m.Month, Share: percent(m.ShareOnTime), Notifications: m.Notifications, OnTime: m.OnTime,
		Missed: m.Decided - m.OnTime, Open: m.Notifications - m.Decided, X: x, LabelX: x + columnWidth/2,
		MonthY: columnArea + 44}
	base := float64(columnArea + 20)
	col.OnTimeH = float64(col.OnTime) * scale
	col.OnTimeY = base - col.OnTimeH
	col.MissedH = float64(col.Missed) * scale
	col.MissedY = col.OnTimeY - col.MissedH
	col.OpenH = float64(col.Open) * scale
	col.OpenY = col.MissedY - col.OpenH
	col.ShareY = int(col.OpenY) - 6
	return col
}

// barChart shows, for each rule, recipient and step of a theme, the share
// on time over the whole period.
type barChart struct {
	Width, Height, AxisX, MidX, EndX int
	Bars                             []shareBar
}

type shareBar struct {
	Label, Text, Class string
	Y, TextY           int
	// Width is the bar's length; TextX is where its figures start, just
	// past its end.
	Width, TextX float64
}

func newBarChart(rows []timeliness.Row) barChart {
	c := barChart{Width: barLabelSpace + barArea + 160, AxisX: barLabelSpace, MidX: barLabelSpace + barArea/2,
		EndX: barLabelSpace + barArea}
	for i, t := range timeliness.TotalsByRule(rows) {
		y := i * barRowHeight
		s := t.Share()
		label := fmt.Sprintf("%s %s (%s)", t.RuleID, kindLabel(t.RecipientKind), t.Step)
		b := shareBar{Label: label, Y: y + 4, TextY: y + 19, Class: "share-" + string(timeliness.BandOf(s)),
			Text: fmt.Sprintf("%s (%d of %d)", percent(s), t.OnTime, t.Known)}
		if s != nil {
			b.Width = math.Round(*s*barArea*10) / 10
		}
		b.TextX = float64(barLabelSpace) + b.Width + 6
		c.Bars = append(c.Bars, b)
	}
	c.Height = len(c.Bars)*barRowHeight + barChartMargin
	return c
}

// percent shows a share to one decimal place, as the report's own page
// does, or a dash when there is nothing to share.
func percent(s *float64) string {
	if s == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", *s*100)
}

// seconds shows a statistic kept in seconds as a duration.
func seconds(s *float64) string {
	if s == nil {
		return "–"
	}
	return timeliness.Duration(time.Duration(math.Round(*s)) * time.Second)
}

// kindLabel names a kind of recipient for people, keeping the
// abbreviations that are said as letters.
func kindLabel(kind string) string {
	switch events.RecipientKind(kind) {
	case events.KindMASH, events.KindMARAC, events.KindIDVA, events.KindGP:
		return strings.ToUpper(kind)
	}
	return titleWord(kind)
}

// londonPtr shows an instant that may be missing.
func londonPtr(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return londonTime(*t)
}

// outcomeLabel says a deadline's outcome in words.
func outcomeLabel(o string) string {
	switch o {
	case projection.OutcomeMet:
		return "Met"
	case projection.OutcomeLate:
		return "Met late"
	case projection.OutcomeBreached:
		return "Breached"
	case projection.OutcomeFailed:
		return "Delivery failed"
	case projection.OutcomeOpen:
		return "Open"
	}
	return titleWord(o)
}

// metLabel says whether a step was in time; an empty string for a step no
// deadline watches.
func metLabel(met *bool) string {
	switch {
	case met == nil:
		return ""
	case *met:
		return "In time"
	}
	return "After the deadline"
}

// stepLabels name the events of a timeline for people.
var stepLabels = map[events.Type]string{
	events.IncidentReported:         "Notice received from the police",
	events.NotificationRequested:    "Recipient to be told",
	events.NotificationDelivered:    "Delivered",
	events.NotificationAcknowledged: "Acknowledged",
	events.NotificationFailed:       "Delivery failed",
	events.TriageDecided:            "Triage decided",
	events.SLAAtRisk:                "Deadline at risk",
	events.SLABreached:              "Deadline breached",
}

func stepLabel(t string) string {
	if l, ok := stepLabels[events.Type(t)]; ok {
		return l
	}
	return t
}

package timeliness

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvHeader is one table for figures and breaches alike, told apart by the
// first column, so that a spreadsheet filter shows either.
var csvHeader = []string{"record", "theme", "theme_name", "rule_id", "recipient_kind", "month", "step",
	"count", "on_time", "late", "overdue", "failed", "pending", "share_on_time",
	"median_to_deliver_s", "p90_to_deliver_s", "median_to_acknowledge_s", "p90_to_acknowledge_s",
	"median_to_decide_s", "p90_to_decide_s",
	"incident_id", "notification_id", "recipient_name", "due_at", "done_at", "recorded", "reason",
	"channel", "median_to_accept_s", "p90_to_accept_s"}

// WriteCSV writes the report's figures and breaches as CSV.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	for _, th := range r.Themes {
		for _, row := range th.Rows {
			_ = cw.Write(figureRecord(th.Theme, row))
		}
		for _, b := range th.Breaches {
			_ = cw.Write(breachRecord(th.Theme, b))
		}
	}
	for _, c := range r.Channels {
		_ = cw.Write(channelRecord(c))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

func figureRecord(th Theme, r Row) []string {
	rec := []string{"figures", strconv.Itoa(th.Number), th.Name, r.RuleID, r.RecipientKind, r.Month, r.Step,
		itoa(r.Count), itoa(r.OnTime), itoa(r.Late), itoa(r.Overdue), itoa(r.Failed), itoa(r.Pending),
		number(r.ShareOnTime), number(r.ToDeliver.Median), number(r.ToDeliver.P90), number(r.ToAcknowledge.Median),
		number(r.ToAcknowledge.P90), number(r.ToDecide.Median), number(r.ToDecide.P90),
		"", "", "", "", "", "", "", "", "", ""}
	return neutralise(rec)
}

// channelRecord is one channel's figures: the count, on time and share
// columns, and the channel's own columns at the end.
func channelRecord(c ChannelTotal) []string {
	rec := make([]string, len(csvHeader))
	rec[0], rec[7], rec[8], rec[13] = "channel", itoa(c.Notices), itoa(c.OnTime), number(c.ShareOnTime)
	copy(rec[27:], []string{c.Channel, number(c.ToAccept.Median), number(c.ToAccept.P90)})
	return neutralise(rec)
}

func breachRecord(th Theme, b Breach) []string {
	rec := make([]string, len(csvHeader))
	copy(rec, []string{"breach", strconv.Itoa(th.Number), th.Name, b.RuleID, b.RecipientKind, monthOf(b.DueAt), b.Step})
	copy(rec[20:], []string{b.IncidentID, b.NotificationID, b.RecipientName, stamp(b.DueAt), stamp(b.DoneAt),
		strconv.FormatBool(b.Recorded), b.Reason})
	return neutralise(rec)
}

func itoa(n int) string { return strconv.Itoa(n) }

func number(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func monthOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return month(*t)
}

// neutralise stops a spreadsheet from running a cell as a formula: text
// from outside Lantern (a failure reason, a recipient's name) that starts
// with one of = + - @ or a tab is prefixed with an apostrophe. Numbers are
// left alone, negative ones included.
func neutralise(rec []string) []string {
	for i, v := range rec {
		if v == "" || !strings.ContainsAny(v[:1], "=+-@\t\r") {
			continue
		}
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			continue
		}
		rec[i] = "'" + v
	}
	return rec
}

package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
	"github.com/lantern-safeguarding/lantern/services/ledger/timeliness"
)

// londonTime formats t in Europe/London with its zone, GMT or BST.
func londonTime(t time.Time) string { return t.In(calendar.London).Format("2006-01-02 15:04:05 MST") }

func londonPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return londonTime(*t)
}

// writeTimelineText prints every step, then each child's notifications
// with their deadlines and whether each was met.
func writeTimelineText(w io.Writer, tl projection.Timeline) error {
	fmt.Fprintf(w, "Incident %s\n", tl.IncidentID)
	if tl.ReportedAt != nil {
		fmt.Fprintf(w, "Reported %s\n", londonTime(*tl.ReportedAt))
	}
	fmt.Fprintln(w, "\nEvery step (times in Europe/London)")
	if err := writeSteps(w, tl.Steps); err != nil {
		return err
	}
	for _, c := range tl.Children {
		fmt.Fprintf(w, "\nChild %s\n", c.ChildID)
		writeNotifications(w, c.Notifications)
	}
	fmt.Fprintln(w, "\nNo child named (household, unborn child or adult victim)")
	writeNotifications(w, tl.Household)
	return nil
}

func writeSteps(w io.Writer, steps []projection.TimelineStep) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tSTEP\tACTOR\tRULE\tRECIPIENT\tCHILDREN\tDEADLINE\tMET\tCHANNELS")
	for _, s := range steps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Seq, londonTime(s.At), stepName(s), s.Actor,
			dash(s.RuleID), recipient(s.RecipientKind, s.RecipientID), dash(strings.Join(s.ChildIDs, ",")),
			londonPtr(s.DueAt), metText(s), channelsText(s.Channels))
	}
	return tw.Flush()
}

// channelsText lists the channels that carried a delivery, each with the
// time it accepted: "email 06:31:00 GMT, webhook 06:31:02 GMT".
func channelsText(cs []projection.ChannelMark) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Channel+" "+c.AcceptedAt.In(calendar.London).Format("15:04:05 MST"))
	}
	return dash(strings.Join(parts, ", "))
}

// stepName shortens org.lantern.notification.delivered.v1 to
// notification.delivered, and names the step an SLA event is about.
func stepName(s projection.TimelineStep) string {
	name := strings.TrimSuffix(strings.TrimPrefix(s.Type, "org.lantern."), ".v1")
	if s.SLAStep != "" {
		name += " (" + s.SLAStep + ")"
	}
	return name
}

func recipient(kind, id string) string {
	if kind == "" {
		return "-"
	}
	return kind + " " + id
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func metText(s projection.TimelineStep) string {
	switch {
	case s.Met != nil && *s.Met:
		return "yes"
	case s.Met != nil:
		return "no"
	case strings.Contains(s.Type, "sla.breached"):
		return "breached"
	}
	return "-"
}

func writeNotifications(w io.Writer, notes []projection.NotificationTimeline) {
	if len(notes) == 0 {
		fmt.Fprintln(w, "  (none)")
		return
	}
	for _, n := range notes {
		fmt.Fprintf(w, "  %s to %s %s (%s): deadline %s, met by %s: %s\n", n.RuleID, n.Recipient.Kind, n.Recipient.ID,
			n.Recipient.Name, londonPtr(n.DueAt), n.WatchedStep, n.Outcome)
		fmt.Fprintf(w, "    delivered     %s\n", milestoneText(n.Delivered, n.DueAt))
		for _, c := range n.Channels {
			fmt.Fprintf(w, "    told by       %s at %s, %s (%s)\n", timeliness.ChannelName(c.Channel),
				londonTime(c.AcceptedAt), onTimeText(c.OnTime), c.ProviderID)
		}
		fmt.Fprintf(w, "    acknowledged  %s\n", milestoneText(n.Acknowledged, n.DueAt))
		if n.FailedAt != nil {
			fmt.Fprintf(w, "    failed        %s\n", londonTime(*n.FailedAt))
		}
		for _, s := range n.Steps {
			if label, ok := slaLabels[s.Type]; ok {
				fmt.Fprintf(w, "    %-13s %s (%s)\n", label, londonTime(s.At), s.SLAStep)
			}
		}
	}
}

// slaLabels name the escalation service's warnings in a notification's
// history.
var slaLabels = map[string]string{
	string(events.SLAAtRisk):   "at risk",
	string(events.SLABreached): "breached",
}

func onTimeText(onTime bool) string {
	if onTime {
		return "on time"
	}
	return "after the deadline"
}

func milestoneText(m *projection.Milestone, due *time.Time) string {
	if m == nil {
		return "not yet"
	}
	text := londonTime(m.At)
	if m.By != "" {
		text += " by " + m.By
	}
	switch {
	case due == nil:
	case m.OnTime:
		text += ", on time"
	default:
		text += ", late by " + timeliness.Duration(m.At.Sub(*due))
	}
	return text
}

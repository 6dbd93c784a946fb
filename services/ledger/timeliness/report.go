// Package timeliness computes the JTAI timeliness report: for each rule,
// recipient kind and month, how many notices were sent, the share that
// met their deadline, the median and 90th percentile time to deliver, to
// acknowledge and to triage, and every breach with its incident and
// reason, grouped under the five themes of the Medway review. It reads the
// projection rows (services/ledger/projection), themselves a pure function of the
// ledger's requested, delivered, acknowledged, failed, triage.decided and
// sla.breached events, and renders the result as JSON, CSV or a
// self-contained HTML page.
package timeliness

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// Options choose what the report covers.
type Options struct {
	// From and To bound the notices counted, inclusive, by the date in
	// Europe/London on which each was requested.
	From, To calendar.Date
	// AsOf is when the report is made: a deadline that has passed by then
	// with its step not done counts as overdue; one not yet due, as pending.
	AsOf time.Time
}

// Report is the whole report.
type Report struct {
	From   string         `json:"from"`
	To     string         `json:"to"`
	AsOf   time.Time      `json:"as_of"`
	Method []string       `json:"method"`
	Totals Totals         `json:"totals"`
	Months []MonthTotal   `json:"months"`
	Themes []ThemeSection `json:"themes"`
	// Channels are the period's deliveries by the channel that carried
	// them: the inbox first, then each outbound channel that carried any.
	Channels []ChannelTotal `json:"channels"`
}

// ChannelTotal is how the notices of the period were carried by one
// channel: how many it carried and how many it had accepted by the
// notice's deadline.
type ChannelTotal struct {
	// Channel is inbox, email, notify_email, notify_sms or webhook.
	Channel string `json:"channel"`
	// Notices counts the delivered notices the channel carried.
	Notices int `json:"notices"`
	// OnTime counts those it accepted at or before the deadline; for
	// the inbox, those delivered (every channel accepted) by then.
	OnTime      int      `json:"on_time"`
	ShareOnTime *float64 `json:"share_on_time"`
	// ToAccept runs from Lantern's decision to tell the recipient to the
	// channel's first acceptance.
	ToAccept Stats `json:"to_accept"`
	waits    []time.Duration
}

// Totals are the whole period's figures.
type Totals struct {
	Incidents     int      `json:"incidents"`
	Notifications int      `json:"notifications"`
	OnTime        int      `json:"on_time"`
	Decided       int      `json:"decided"`
	ShareOnTime   *float64 `json:"share_on_time"`
	Breaches      int      `json:"breaches"`
}

// MonthTotal is one month of all rules together.
type MonthTotal struct {
	Month         string   `json:"month"`
	Notifications int      `json:"notifications"`
	OnTime        int      `json:"on_time"`
	Decided       int      `json:"decided"`
	ShareOnTime   *float64 `json:"share_on_time"`
}

// ThemeSection is one theme's evidence.
type ThemeSection struct {
	Theme
	Indicators []Indicator `json:"indicators"`
	Rows       []Row       `json:"rows"`
	Breaches   []Breach    `json:"breaches"`
}

// Indicator is a count, and where it is a share, what it is a share of.
type Indicator struct {
	Label    string   `json:"label"`
	Evidence string   `json:"evidence"`
	Count    int      `json:"count"`
	Of       *int     `json:"of,omitempty"`
	Share    *float64 `json:"share,omitempty"`
}

// Row is one rule, recipient kind and month.
type Row struct {
	Theme         int    `json:"theme"`
	RuleID        string `json:"rule_id"`
	RecipientKind string `json:"recipient_kind"`
	Month         string `json:"month"`
	// Step is what the deadline is met by: delivery, acknowledgement, or
	// triage.
	Step    string `json:"step"`
	Count   int    `json:"count"`
	OnTime  int    `json:"on_time"`
	Late    int    `json:"late"`
	Overdue int    `json:"overdue"`
	Failed  int    `json:"failed"`
	Pending int    `json:"pending"`
	// ShareOnTime is OnTime over the notices whose outcome is known
	// (Count less Pending); null when there are none.
	ShareOnTime   *float64 `json:"share_on_time"`
	ToDeliver     Stats    `json:"to_deliver"`
	ToAcknowledge Stats    `json:"to_acknowledge"`
	ToDecide      Stats    `json:"to_decide"`
	delivered     []time.Duration
	acknowledged  []time.Duration
	decided       []time.Duration
}

// Breach is one deadline missed.
type Breach struct {
	Theme          int        `json:"theme"`
	IncidentID     string     `json:"incident_id"`
	NotificationID string     `json:"notification_id"`
	RuleID         string     `json:"rule_id"`
	RecipientKind  string     `json:"recipient_kind"`
	RecipientName  string     `json:"recipient_name"`
	Step           string     `json:"step"`
	DueAt          *time.Time `json:"due_at"`
	DoneAt         *time.Time `json:"done_at"`
	// Recorded is true when the escalation service recorded the breach as
	// it happened (sla.breached), not only found afterwards.
	Recorded bool   `json:"recorded"`
	Reason   string `json:"reason"`
}

// method explains the definitions, printed with every report.
var method = []string{
	"Notices are counted in the month (Europe/London) in which Lantern decided the recipient must be told.",
	"On time: the step the deadline watches happened at or before the deadline. Operation Encompass (R8) is met by the key adult's acknowledgement; every other rule by delivery to the recipient.",
	"Share on time: notices on time divided by notices whose outcome is known; notices not yet due are pending and left out.",
	"Times to deliver and to acknowledge run from Lantern's decision to tell the recipient; time to triage runs from the MASH receiving the notice.",
	"Median and 90th percentile interpolate between the closest ranks, as a spreadsheet's PERCENTILE.INC does.",
	"Triage is on time unless the escalation service recorded a triage breach.",
	"Channels: a notice is delivered once it is in the inbox and every channel configured for its recipient (e-mail, GOV.UK Notify, webhook) has accepted it. Each channel's row counts the delivered notices it carried and those it accepted by the deadline, at its first acceptance when it went to several addresses; the inbox row counts every delivered notice, on time when delivered by the deadline.",
	"The report holds identifiers, times and counts only: no names or notice content.",
}

// Compute builds the report from projection rows: those LoadRange reads
// for the report's days. Load gives the same report without holding the
// rows.
func Compute(s projection.Set, o Options) Report {
	b := newBuilder(o)
	for _, c := range s.Channels {
		b.carried[c.NotificationID] = append(b.carried[c.NotificationID], c)
	}
	for _, br := range s.Breaches {
		b.recorded[br.NotificationID] = append(b.recorded[br.NotificationID], br)
	}
	for _, tr := range s.Triage {
		b.triage[tr.NotificationID] = append(b.triage[tr.NotificationID], tr)
	}
	for _, n := range s.Notifications {
		b.add(n)
	}
	for _, in := range s.Incidents {
		b.countIncident(in)
	}
	for _, t := range s.Triage {
		b.countTriage(t)
	}
	return b.finish()
}

// add counts one notification: in its row if requested in range, and in
// the notice indicators.
func (b *builder) add(n projection.Notification) {
	if b.inRange(n.RequestedAt) {
		b.addNotification(n)
	}
	b.countNotice(n)
}

// builder accumulates rows and breaches.
type builder struct {
	o        Options
	rows     map[string]*Row
	breaches []Breach
	recorded map[string][]projection.Breach
	triage   map[string][]projection.Triage
	sections []ThemeSection
	months   map[string]*MonthTotal
	totals   Totals
	// The counts behind the themes' indicators.
	incidents incidentCounts
	notices   noticeCounts
	decisions triageCounts
	carried   map[string][]projection.Channel
	channels  map[string]*ChannelTotal
}

func newBuilder(o Options) *builder {
	b := &builder{o: o, rows: map[string]*Row{}, recorded: map[string][]projection.Breach{},
		triage: map[string][]projection.Triage{}, months: map[string]*MonthTotal{},
		carried: map[string][]projection.Channel{}, channels: map[string]*ChannelTotal{}}
	for _, th := range themes {
		b.sections = append(b.sections, ThemeSection{Theme: th, Indicators: []Indicator{}, Rows: []Row{}, Breaches: []Breach{}})
	}
	return b
}

func (b *builder) inRange(t *time.Time) bool {
	if t == nil {
		return false
	}
	d := calendar.DateOf(t.In(calendar.London))
	return !d.Before(b.o.From) && !b.o.To.Before(d)
}

func month(t time.Time) string { return t.In(calendar.London).Format("2006-01") }

func (b *builder) row(theme int, rule, kind, step string, requested time.Time) *Row {
	m := month(requested)
	key := strings.Join([]string{rule, kind, step, m}, "|")
	r, ok := b.rows[key]
	if !ok {
		r = &Row{Theme: theme, RuleID: rule, RecipientKind: kind, Month: m, Step: step}
		b.rows[key] = r
	}
	return r
}

func (b *builder) addNotification(n projection.Notification) {
	theme := themeOf(n.RuleID, n.RecipientKind)
	r := b.row(theme, n.RuleID, n.RecipientKind, n.WatchedStep, *n.RequestedAt)
	r.Count++
	if n.DeliveredAt != nil {
		r.delivered = append(r.delivered, n.DeliveredAt.Sub(*n.RequestedAt))
	}
	if n.AcknowledgedAt != nil {
		r.acknowledged = append(r.acknowledged, n.AcknowledgedAt.Sub(*n.RequestedAt))
	}
	b.classify(r, n, theme)
	b.addChannels(n)
	b.addOtherRecorded(n, theme)
	if n.RecipientKind == string(events.KindMASH) {
		b.addTriage(n)
	}
}

// classify counts n as on time, late, failed, overdue or pending, and
// lists it as a breach unless it was on time or is pending.
func (b *builder) classify(r *Row, n projection.Notification, theme int) {
	done := n.DoneAt()
	reason := ""
	switch {
	case done != nil && (n.DueAt == nil || !done.After(*n.DueAt)):
		r.OnTime++
		return
	case done != nil:
		r.Late++
		reason = fmt.Sprintf("%s %s, %s after the deadline", pastTense(n.WatchedStep), clockTime(*done), Duration(done.Sub(*n.DueAt)))
	case n.FailedAt != nil:
		r.Failed++
		reason = fmt.Sprintf("delivery failed %s: %s", clockTime(*n.FailedAt), n.FailureReason)
	case n.DueAt == nil || n.DueAt.After(b.o.AsOf):
		r.Pending++
		return
	default:
		r.Overdue++
		reason = fmt.Sprintf("not %s by the deadline; still not %s at %s", pastTense(n.WatchedStep), pastTense(n.WatchedStep), clockTime(b.o.AsOf))
	}
	b.addBreach(theme, n, n.WatchedStep, done, reason)
}

func pastTense(step string) string {
	if step == events.StepAcknowledgement {
		return "acknowledged"
	}
	return "delivered"
}

func (b *builder) addBreach(theme int, n projection.Notification, step string, done *time.Time, reason string) {
	br := Breach{Theme: theme, IncidentID: n.IncidentID, NotificationID: n.NotificationID, RuleID: n.RuleID,
		RecipientKind: n.RecipientKind, RecipientName: n.RecipientName, Step: step, DueAt: n.DueAt, DoneAt: done,
		Reason: reason}
	for _, rec := range b.recorded[n.NotificationID] {
		// A receipt breach is the escalation service's record of this
		// same deadline, missed before the notice reached Lantern.
		if rec.Step == step || (rec.Step == events.StepReceipt && step == events.StepDelivery) {
			br.Recorded = true
		}
	}
	b.breaches = append(b.breaches, br)
}

// addOtherRecorded lists breaches the escalation service recorded for a
// step other than the one the deadline watches (say, a school notice not
// yet delivered), which the watched step alone would not show.
func (b *builder) addOtherRecorded(n projection.Notification, theme int) {
	for _, rec := range b.recorded[n.NotificationID] {
		if rec.Step == n.WatchedStep || rec.Step == events.StepTriage || rec.Step == events.StepReceipt {
			continue
		}
		var done *time.Time
		if rec.Step == events.StepDelivery {
			done = n.DeliveredAt
		}
		br := Breach{Theme: theme, IncidentID: n.IncidentID, NotificationID: n.NotificationID, RuleID: n.RuleID,
			RecipientKind: n.RecipientKind, RecipientName: n.RecipientName, Step: rec.Step, DueAt: rec.DueAt,
			DoneAt: done, Recorded: true,
			Reason: fmt.Sprintf("%s deadline breach recorded %s", rec.Step, clockTime(rec.ObservedAt))}
		b.breaches = append(b.breaches, br)
	}
}

// addTriage counts the MASH's triage of the notice (rule R2).
func (b *builder) addTriage(n projection.Notification) {
	theme := themeOf("R2", n.RecipientKind)
	r := b.row(theme, "R2", n.RecipientKind, events.StepTriage, *n.RequestedAt)
	r.Count++
	decided := firstDecision(b.triage[n.NotificationID])
	breach := b.triageBreach(n.NotificationID)
	received := *n.RequestedAt
	if n.DeliveredAt != nil {
		received = *n.DeliveredAt
	}
	if decided != nil {
		r.decided = append(r.decided, decided.DecidedAt.Sub(received))
	}
	switch {
	case breach == nil && decided != nil:
		r.OnTime++
	case breach == nil:
		r.Pending++
	default:
		b.addTriageBreach(r, theme, n, decided, breach)
	}
}

func (b *builder) addTriageBreach(r *Row, theme int, n projection.Notification, decided *projection.Triage, br *projection.Breach) {
	var done *time.Time
	reason := fmt.Sprintf("no triage decision by the deadline (breach recorded %s)", clockTime(br.ObservedAt))
	if decided != nil {
		r.Late++
		done = &decided.DecidedAt
		reason = fmt.Sprintf("triage decided %s, after a breach was recorded %s", clockTime(decided.DecidedAt), clockTime(br.ObservedAt))
	} else {
		r.Overdue++
	}
	b.breaches = append(b.breaches, Breach{Theme: theme, IncidentID: n.IncidentID, NotificationID: n.NotificationID,
		RuleID: "R2", RecipientKind: n.RecipientKind, RecipientName: n.RecipientName, Step: events.StepTriage,
		DueAt: br.DueAt, DoneAt: done, Recorded: true, Reason: reason})
}

func (b *builder) triageBreach(notificationID string) *projection.Breach {
	for _, rec := range b.recorded[notificationID] {
		if rec.Step == events.StepTriage {
			return &rec
		}
	}
	return nil
}

func firstDecision(ts []projection.Triage) *projection.Triage {
	if len(ts) == 0 {
		return nil
	}
	first := slices.MinFunc(ts, func(a, b projection.Triage) int { return a.DecidedAt.Compare(b.DecidedAt) })
	return &first
}

// finish computes shares and statistics, sorts, and files rows and
// breaches under their themes.
func (b *builder) finish() Report {
	rep := Report{From: b.o.From.String(), To: b.o.To.String(), AsOf: b.o.AsOf.UTC(), Method: method}
	b.addIndicators()
	for _, r := range b.sortedRows() {
		b.fileRow(r)
	}
	slices.SortFunc(b.breaches, compareBreaches)
	for _, br := range b.breaches {
		sec := &b.sections[br.Theme-1]
		sec.Breaches = append(sec.Breaches, br)
	}
	b.totals.Breaches = len(b.breaches)
	b.totals.ShareOnTime = share(b.totals.OnTime, b.totals.Decided)
	b.sections[4].Indicators = leadershipIndicators(b.totals)
	rep.Totals, rep.Months, rep.Themes = b.totals, b.sortedMonths(), b.sections
	rep.Channels = b.sortedChannels()
	return rep
}

// addChannels counts a delivered notice under the inbox and under each
// channel that carried it, at that channel's first acceptance.
func (b *builder) addChannels(n projection.Notification) {
	if n.DeliveredAt == nil {
		return
	}
	b.addChannel("inbox", n, *n.DeliveredAt)
	first := map[string]time.Time{}
	var order []string
	for _, c := range b.carried[n.NotificationID] {
		at, seen := first[c.Channel]
		if !seen {
			order = append(order, c.Channel)
		}
		if !seen || c.AcceptedAt.Before(at) {
			first[c.Channel] = c.AcceptedAt
		}
	}
	for _, ch := range order {
		b.addChannel(ch, n, first[ch])
	}
}

func (b *builder) addChannel(name string, n projection.Notification, at time.Time) {
	t, ok := b.channels[name]
	if !ok {
		t = &ChannelTotal{Channel: name}
		b.channels[name] = t
	}
	t.Notices++
	if n.DueAt == nil || !at.After(*n.DueAt) {
		t.OnTime++
	}
	t.waits = append(t.waits, at.Sub(*n.RequestedAt))
}

// channelOrder is the order channels are listed in: the inbox, then e-mail,
// Notify and webhooks; a channel not named here comes after, by name.
var channelOrder = []string{"inbox", "email", "notify_email", "notify_sms", "webhook"}

func (b *builder) sortedChannels() []ChannelTotal {
	out := []ChannelTotal{}
	if _, ok := b.channels["inbox"]; !ok {
		b.channels["inbox"] = &ChannelTotal{Channel: "inbox"}
	}
	rank := func(name string) int {
		if i := slices.Index(channelOrder, name); i >= 0 {
			return i
		}
		return len(channelOrder)
	}
	for _, t := range b.channels {
		t.ShareOnTime, t.ToAccept = share(t.OnTime, t.Notices), statsOf(t.waits)
		out = append(out, *t)
	}
	slices.SortFunc(out, func(x, y ChannelTotal) int {
		return cmp.Or(cmp.Compare(rank(x.Channel), rank(y.Channel)), cmp.Compare(x.Channel, y.Channel))
	})
	return out
}

func (b *builder) fileRow(r *Row) {
	r.ToDeliver, r.ToAcknowledge, r.ToDecide = statsOf(r.delivered), statsOf(r.acknowledged), statsOf(r.decided)
	decided := r.Count - r.Pending
	r.ShareOnTime = share(r.OnTime, decided)
	sec := &b.sections[r.Theme-1]
	sec.Rows = append(sec.Rows, *r)
	if r.Step == events.StepTriage {
		return
	}
	m, ok := b.months[r.Month]
	if !ok {
		m = &MonthTotal{Month: r.Month}
		b.months[r.Month] = m
	}
	m.Notifications += r.Count
	m.OnTime += r.OnTime
	m.Decided += decided
	b.totals.Notifications += r.Count
	b.totals.OnTime += r.OnTime
	b.totals.Decided += decided
}

func (b *builder) sortedRows() []*Row {
	rows := make([]*Row, 0, len(b.rows))
	for _, r := range b.rows {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y *Row) int {
		return cmp.Or(cmp.Compare(x.Theme, y.Theme), compareRules(x.RuleID, y.RuleID),
			cmp.Compare(x.RecipientKind, y.RecipientKind), cmp.Compare(x.Step, y.Step), cmp.Compare(x.Month, y.Month))
	})
	return rows
}

func (b *builder) sortedMonths() []MonthTotal {
	out := []MonthTotal{}
	for _, m := range b.months {
		m.ShareOnTime = share(m.OnTime, m.Decided)
		out = append(out, *m)
	}
	slices.SortFunc(out, func(x, y MonthTotal) int { return cmp.Compare(x.Month, y.Month) })
	return out
}

// compareRules orders R2 before R10: by number where both are R-numbers.
func compareRules(a, b string) int {
	na, errA := strconv.Atoi(strings.TrimPrefix(a, "R"))
	nb, errB := strconv.Atoi(strings.TrimPrefix(b, "R"))
	if errA == nil && errB == nil && na != nb {
		return cmp.Compare(na, nb)
	}
	return cmp.Compare(a, b)
}

// compareBreaches orders the breach list by deadline; the later keys only
// settle ties, so that the list's order never depends on the order the
// rows were read in.
func compareBreaches(x, y Breach) int {
	return cmp.Or(projection.CompareTimes(x.DueAt, y.DueAt), cmp.Compare(x.NotificationID, y.NotificationID), cmp.Compare(x.Step, y.Step),
		cmp.Compare(x.IncidentID, y.IncidentID), compareRules(x.RuleID, y.RuleID), cmp.Compare(x.RecipientKind, y.RecipientKind),
		cmp.Compare(x.Reason, y.Reason), projection.CompareTimes(x.DoneAt, y.DoneAt))
}

func share(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := float64(n) / float64(of)
	return &v
}

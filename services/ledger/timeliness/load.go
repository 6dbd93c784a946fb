package timeliness

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/services/ledger/projection"
)

// Load computes the report from the projection tables the ledger keeps
// current in each append's transaction. It gives what Compute gives for
// the rows LoadRange reads, but streams: PostgreSQL joins each notice
// requested in range with its recorded breaches and triage decisions and
// sends only the columns the report reads, and the incidents and decisions
// are counted as they arrive. The timelines' steps and the inboxes, most
// of the rows of a year, are never read, and memory holds the report's
// rows, durations and breaches, not the year's records.
func Load(ctx context.Context, q projection.Querier, o Options) (Report, error) {
	from := o.From.In(calendar.London)
	to := o.To.AddDays(1).In(calendar.London)
	b := newBuilder(o)
	err := firstError(
		func() error { return b.loadIncidents(ctx, q, from, to) },
		func() error { return b.loadDecisions(ctx, q, from, to) },
		func() error { return b.loadNotices(ctx, q, from, to) },
	)
	if err != nil {
		return Report{}, err
	}
	return b.finish(), nil
}

func firstError(calls ...func() error) error {
	for _, c := range calls {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// inRangeSQL is the incidents LoadRange reads: reported in range, or with
// a notice requested in range.
const inRangeSQL = `SELECT incident_id FROM audit.notifications WHERE requested_at >= $1 AND requested_at < $2
	UNION SELECT incident_id FROM audit.incidents WHERE received_at >= $1 AND received_at < $2`

func (b *builder) loadIncidents(ctx context.Context, q projection.Querier, from, to time.Time) error {
	rows, err := q.Query(ctx, `SELECT received_at, cardinality(child_ids), children_present, children_with_voice,
		unborn_victim, dash_level, same_parties_incidents_12m
		FROM audit.incidents WHERE received_at >= $1 AND received_at < $2`, from, to)
	if err != nil {
		return fmt.Errorf("reading incidents: %w", err)
	}
	var in projection.Incident
	var children int
	return each(rows, "incidents", []any{&in.ReceivedAt, &children, &in.ChildrenPresent, &in.ChildrenWithVoice,
		&in.UnbornVictim, &in.DASHLevel, &in.SamePartiesIncidents12m}, func() {
		// Only the number of children is counted.
		in.ChildIDs = make([]string, children)
		b.countIncident(in)
	})
}

func (b *builder) loadDecisions(ctx context.Context, q projection.Querier, from, to time.Time) error {
	rows, err := q.Query(ctx, `SELECT decided_at, overridden, reason_given FROM audit.triage
		WHERE decided_at >= $1 AND decided_at < $2 AND incident_id IN (`+inRangeSQL+`)`, from, to)
	if err != nil {
		return fmt.Errorf("reading triage decisions: %w", err)
	}
	var t projection.Triage
	return each(rows, "triage decisions", []any{&t.DecidedAt, &t.Overridden, &t.ReasonGiven}, func() { b.countTriage(t) })
}

// loadNotices streams the notices requested in range, each with its
// incident's recorded breaches and triage decisions of the same notice.
// Notification ids are unique, so matching the incident as well changes
// nothing but lets the incident indexes serve the join.
func (b *builder) loadNotices(ctx context.Context, q projection.Querier, from, to time.Time) error {
	rows, err := q.Query(ctx, `SELECT n.notification_id, n.incident_id, n.rule_id, n.recipient_kind, n.recipient_name,
		n.repeat, n.requested_at, n.due_at, n.watched_step, n.delivered_at, n.acknowledged_at, n.acknowledged_by,
		n.failed_at, n.failure_reason,
		br.ids, br.steps, br.dues, br.observed, tr.ids, tr.decided, ch.channels, ch.accepted
		FROM audit.notifications n
		LEFT JOIN LATERAL (SELECT array_agg(event_id) ids, array_agg(step) steps, array_agg(due_at) dues,
			array_agg(observed_at) observed FROM audit.breaches
			WHERE incident_id = n.incident_id AND notification_id = n.notification_id) br ON true
		LEFT JOIN LATERAL (SELECT array_agg(event_id) ids, array_agg(decided_at) decided FROM audit.triage
			WHERE incident_id = n.incident_id AND notification_id = n.notification_id) tr ON true
		LEFT JOIN LATERAL (SELECT array_agg(channel) channels, array_agg(accepted_at) accepted FROM audit.channels
			WHERE incident_id = n.incident_id AND notification_id = n.notification_id) ch ON true
		WHERE n.requested_at >= $1 AND n.requested_at < $2`, from, to)
	if err != nil {
		return fmt.Errorf("reading notices: %w", err)
	}
	var n projection.Notification
	var br breachArrays
	var tr triageArrays
	var ch channelArrays
	dest := []any{&n.NotificationID, &n.IncidentID, &n.RuleID, &n.RecipientKind, &n.RecipientName, &n.Repeat,
		&n.RequestedAt, &n.DueAt, &n.WatchedStep, &n.DeliveredAt, &n.AcknowledgedAt, &n.AcknowledgedBy,
		&n.FailedAt, &n.FailureReason, &br.ids, &br.steps, &br.dues, &br.observed, &tr.ids, &tr.decided,
		&ch.channels, &ch.accepted}
	return each(rows, "notices", dest, func() {
		for _, t := range []**time.Time{&n.RequestedAt, &n.DueAt, &n.DeliveredAt, &n.AcknowledgedAt, &n.FailedAt} {
			*t = utc(*t)
		}
		b.recorded[n.NotificationID] = br.breaches(n)
		b.triage[n.NotificationID] = tr.decisions(n)
		b.carried[n.NotificationID] = ch.rows(n)
		b.add(n)
		delete(b.recorded, n.NotificationID)
		delete(b.triage, n.NotificationID)
		delete(b.carried, n.NotificationID)
		// The builder keeps n's times: the next row must not be
		// scanned into them.
		n, br, tr, ch = projection.Notification{}, breachArrays{}, triageArrays{}, channelArrays{}
	})
}

type breachArrays struct {
	ids, steps     []string
	dues, observed []*time.Time
}

// breaches are the rows in the order Compute sees them: by event id.
func (a breachArrays) breaches(n projection.Notification) []projection.Breach {
	out := make([]projection.Breach, len(a.ids))
	for i := range a.ids {
		out[i] = projection.Breach{EventID: a.ids[i], NotificationID: n.NotificationID, IncidentID: n.IncidentID,
			Step: a.steps[i], DueAt: utc(a.dues[i]), ObservedAt: *utc(a.observed[i])}
	}
	slices.SortFunc(out, func(x, y projection.Breach) int { return cmp.Compare(x.EventID, y.EventID) })
	return out
}

type channelArrays struct {
	channels []string
	accepted []time.Time
}

// rows are the channels that carried n; the report reads each channel's
// first acceptance, so their order does not matter.
func (a channelArrays) rows(n projection.Notification) []projection.Channel {
	out := make([]projection.Channel, len(a.channels))
	for i := range a.channels {
		out[i] = projection.Channel{NotificationID: n.NotificationID, IncidentID: n.IncidentID, Channel: a.channels[i],
			AcceptedAt: a.accepted[i].UTC()}
	}
	return out
}

type triageArrays struct {
	ids     []string
	decided []time.Time
}

func (a triageArrays) decisions(n projection.Notification) []projection.Triage {
	out := make([]projection.Triage, len(a.ids))
	for i := range a.ids {
		out[i] = projection.Triage{EventID: a.ids[i], NotificationID: n.NotificationID, IncidentID: n.IncidentID,
			DecidedAt: a.decided[i].UTC()}
	}
	slices.SortFunc(out, func(x, y projection.Triage) int { return cmp.Compare(x.EventID, y.EventID) })
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// each scans every row into dest and calls fn after each.
func each(rows pgx.Rows, what string, dest []any, fn func()) error {
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
		fn()
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	return nil
}

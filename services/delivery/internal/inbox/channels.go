package inbox

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel"
)

// UrgentWithin is how close a deadline makes a notice urgent: an urgent
// prompt goes at once whatever hours its recipient asks for, and GOV.UK
// Notify sends it as a text message too (contract.md section 5).
const UrgentWithin = 4 * time.Hour

// Channels are the outbound channels delivery sends prompts by besides the
// inbox. A nil Sender is a channel that is off.
type Channels struct {
	// Email sends e-mail over SMTP.
	Email channel.Sender
	// Notify sends e-mail and text messages through GOV.UK Notify.
	Notify channel.Sender
	// Webhook posts signed CloudEvents to partners' systems.
	Webhook channel.Sender
	// Reference gives the reference data in force, for contacts.csv and
	// webhooks.csv; nil means neither file.
	Reference func() *refdata.Set
	// PublicURL is the workspace's address as people reach it, for the
	// link in every prompt.
	PublicURL string
	Retry     Retry
}

// Retry shapes how channel attempts are retried.
type Retry struct {
	// Attempts is how many tries a channel gets before the notice is
	// failed.
	Attempts int
	// Backoff is the wait after the first failure, doubled after each
	// further one up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt; an attempt in flight holds its row for
	// Timeout and a margin, after which a crashed attempt is tried again.
	Timeout time.Duration
	// Batch is how many due attempts one pass takes.
	Batch int
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 8
	}
	if r.Backoff <= 0 {
		r.Backoff = 5 * time.Second
	}
	if r.MaxBackoff < r.Backoff {
		r.MaxBackoff = max(r.Backoff, 5*time.Minute)
	}
	if r.Timeout <= 0 {
		r.Timeout = 30 * time.Second
	}
	if r.Batch <= 0 {
		r.Batch = 16
	}
	return r
}

// after is the wait before the next try once attempts have failed.
func (r Retry) after(attempts int) time.Duration {
	d := r.Backoff
	for i := 1; i < attempts && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// lease is how long an attempt in flight holds its row.
func (r Retry) lease() time.Duration { return r.Timeout + 30*time.Second }

// UseChannels turns on outbound channels. Without it a notice is delivered
// when it reaches the inbox.
func (d *Deliverer) UseChannels(c Channels) {
	c.Retry = c.Retry.withDefaults()
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	d.channels = c
}

// planned is one channel attempt a new notice needs.
type planned struct {
	target channel.Target
	// notBefore is when it may first be sent.
	notBefore time.Time
}

// plan lists the attempts a notice needs: e-mail to the recipient's
// address and the extra addresses of contacts.csv, by SMTP and by Notify
// where each is on; a text message to contacts.csv's mobile numbers when
// the notice is urgent; a webhook when webhooks.csv names one.
func (d *Deliverer) plan(n events.NotificationRequestedData, now time.Time) []planned {
	c := d.channels
	var set *refdata.Set
	if c.Reference != nil {
		set = c.Reference()
	}
	var contacts []refdata.Contact
	if set != nil {
		contacts = set.Contacts(n.Recipient.Kind, n.Recipient.ID)
	}
	urgent := n.DueAt.Sub(now) <= UrgentWithin
	var out []planned
	for _, e := range emailAddresses(n.Recipient.Email, contacts) {
		at := sendTime(e, n.DueAt, now, urgent)
		if c.Email != nil {
			out = append(out, planned{channel.Target{Channel: channel.Email, Address: e.Address}, at})
		}
		if c.Notify != nil {
			out = append(out, planned{channel.Target{Channel: channel.NotifyEmail, Address: e.Address}, at})
		}
	}
	if c.Notify != nil && urgent {
		for _, s := range contacts {
			if s.Channel == refdata.ContactSMS {
				out = append(out, planned{channel.Target{Channel: channel.NotifySMS, Address: s.Address}, now})
			}
		}
	}
	if c.Webhook != nil && set != nil {
		if w, ok := set.Webhook(n.Recipient.Kind, n.Recipient.ID); ok {
			out = append(out, planned{channel.Target{Channel: channel.Webhook, Address: w.URL, SecretRef: w.SecretRef}, now})
		}
	}
	return out
}

// emailAddresses are the recipient's own address, with the hours a
// contacts.csv row for the same address gives it, then every other e-mail
// address of contacts.csv.
func emailAddresses(primary string, contacts []refdata.Contact) []refdata.Contact {
	var out []refdata.Contact
	if primary != "" {
		own := refdata.Contact{Channel: refdata.ContactEmail, Address: primary}
		for _, c := range contacts {
			if c.Channel == refdata.ContactEmail && strings.EqualFold(c.Address, primary) {
				own = c
			}
		}
		out = append(out, own)
	}
	for _, c := range contacts {
		if c.Channel == refdata.ContactEmail && !strings.EqualFold(c.Address, primary) {
			out = append(out, c)
		}
	}
	return out
}

// sendTime is when a prompt may first go: now for an urgent notice or an
// address that takes prompts at any time; otherwise the next opening of the
// address's hours, unless that would be after the deadline, in which case
// now, since a prompt out of hours is better than one too late.
func sendTime(c refdata.Contact, due, now time.Time, urgent bool) time.Time {
	if urgent || !c.HoursSet {
		return now
	}
	open, ok := calendar.NextOpen(now, c.Hours, nil)
	if !ok || !open.Before(due) {
		return now
	}
	return open
}

// queue writes a new notice's channel attempts and reports how many.
func (d *Deliverer) queue(ctx context.Context, tx pgx.Tx, n events.NotificationRequestedData, now time.Time) (int, error) {
	attempts := d.plan(n, now)
	for _, a := range attempts {
		_, err := tx.Exec(ctx, `INSERT INTO delivery.channel_attempt (notification_id, channel, address, secret_ref, next_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			n.NotificationID, a.target.Channel, a.target.Address, a.target.SecretRef, a.notBefore)
		if err != nil {
			return 0, err
		}
	}
	return len(attempts), nil
}

// link is the notice's page in the workspace.
func (d *Deliverer) link(notificationID string) string {
	return d.channels.PublicURL + "/notices/" + notificationID
}

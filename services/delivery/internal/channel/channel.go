// Package channel is how a notice's prompt leaves Lantern besides the inbox:
// an e-mail over SMTP, an e-mail or text message through GOV.UK Notify, or a
// signed webhook to a partner's system (contract.md section 5). A Sender
// hands one prompt to one provider and says whether the provider accepted
// it; the delivery service keeps every attempt durable, retries and gives
// up, so a Sender holds no state of its own.
package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// The channels a notice can go by, as notification.delivered names them.
const (
	Email       = "email"
	NotifyEmail = "notify_email"
	NotifySMS   = "notify_sms"
	Webhook     = "webhook"
)

// Prompt is what a channel may say about one notice. The e-mail and text
// channels use only the kind of notice, the recipient organisation, the
// deadline and the link: never the notice itself, which holds personal
// data. Only the webhook carries Request, the notice as the router cut it
// down to the recipient's profile.
type Prompt struct {
	NotificationID string
	IncidentID     string
	Recipient      events.Recipient
	RuleID         string
	DueAt          time.Time
	// Link is the notice's page in the workspace.
	Link string
	// Request is the notification.requested data, for the webhook only.
	Request json.RawMessage
	// Alarm is set on a manager's alarm about the notice (escalation's
	// sla.at_risk or sla.breached) rather than the notice's own prompt.
	Alarm *Alarm
}

// Alarm is what a manager's alarm may say besides the prompt's fields: the
// level and the step whose deadline is at risk or missed. Like the prompt,
// it names no person.
type Alarm struct {
	// EventID is the SLA event's id: the alarm's messages are named from
	// it, so a retry sends the same message again.
	EventID string
	// Level is at_risk or breached.
	Level string
	// Step is delivery, acknowledgement, triage or receipt.
	Step string
}

// The levels of an alarm, as the SLA events name them.
const (
	LevelAtRisk   = "at_risk"
	LevelBreached = "breached"
)

// MessageKey is the id a provider's message for the prompt is named from:
// the notification id for a notice's prompt, the SLA event's id for an
// alarm, so that the two never share a Message-ID or a Notify reference.
func (p Prompt) MessageKey() string {
	if p.Alarm != nil {
		return p.Alarm.EventID
	}
	return p.NotificationID
}

// Headline says in plain English what the message is about: the kind of
// notice for a prompt; for an alarm, whether the deadline is at risk or
// missed and what is not done, naming only the organisation.
func (p Prompt) Headline() string {
	if p.Alarm == nil {
		return NoticeKind(p.Recipient.Kind)
	}
	level := "Deadline at risk"
	if p.Alarm.Level == LevelBreached {
		level = "Deadline missed"
	}
	return level + ": " + alarmStep(p.Alarm.Step, p.Recipient.Name)
}

func alarmStep(step, org string) string {
	switch step {
	case "delivery":
		return "a notice for " + org + " has not been delivered"
	case "acknowledgement":
		return "a notice for " + org + " has not been acknowledged"
	case "triage":
		return "a notice for " + org + " has not been triaged"
	case "receipt":
		return "a police notice reached " + org + " after its deadline"
	}
	return "a notice for " + org + " is not done"
}

// Target is one address a prompt goes to on one channel.
type Target struct {
	Channel string
	// Address is an e-mail address, a mobile number or a URL.
	Address string
	// SecretRef names where a webhook's signing secret is kept
	// (env:NAME or file:path), never the secret itself.
	SecretRef string
}

// Receipt is a provider's acceptance of a prompt.
type Receipt struct {
	// ProviderID is the provider's own id for the message, such as the
	// Message-ID, Notify's notification id or the webhook id.
	ProviderID string
}

// Sender hands prompts to one provider.
type Sender interface {
	Send(ctx context.Context, p Prompt, t Target) (Receipt, error)
}

// PermanentError is a refusal that retrying cannot change, such as an
// address the provider says does not exist.
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return e.Reason }

// Permanent wraps a reason as a PermanentError.
func Permanent(format string, args ...any) error {
	return &PermanentError{Reason: fmt.Sprintf(format, args...)}
}

// IsPermanent reports whether err is, or wraps, a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ErrInProgress is a delivery receipt not in yet: the provider is still
// sending.
var ErrInProgress = errors.New("the provider is still sending")

// StatusChecker is a Sender whose acceptance is provisional: the provider
// reports later whether the message reached the person (GOV.UK Notify's
// delivery receipts), so the channel accepts the notice only once Status
// returns nil. Status returns ErrInProgress while the provider is trying,
// a PermanentError for a message it gave up on, and any other error for a
// failure worth sending again.
type StatusChecker interface {
	Status(ctx context.Context, t Target, providerID string) error
}

// NoticeKind says in plain English what kind of notice a recipient has,
// from its kind alone: it names no person.
func NoticeKind(kind events.RecipientKind) string {
	switch kind {
	case events.KindMASH:
		return "A police domestic abuse notification for your MASH"
	case events.KindSchool:
		return "An Operation Encompass notice for your school"
	case events.KindEarlyYears:
		return "An Operation Encompass notice for your early years setting"
	case events.KindGP:
		return "A safeguarding notice for your practice"
	default:
		return "A safeguarding notice for your service"
	}
}

// Deadline writes a deadline in UK time, as people read it: "08:30 on
// Monday 23 November 2026 (UK time)".
func Deadline(t time.Time) string {
	return t.In(calendar.London).Format("15:04 on Monday 2 January 2006") + " (UK time)"
}

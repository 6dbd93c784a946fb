package refdata

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// The optional files of outbound delivery (contract.md section 5). Either
// may be absent: then no organisation has extra contacts or a webhook.
const (
	fileContacts = "contacts.csv"
	fileWebhooks = "webhooks.csv"
)

var (
	contactColumns = []string{"recipient_kind", "recipient_id", "channel", "address", "hours"}
	webhookColumns = []string{"recipient_kind", "recipient_id", "url", "secret_ref"}
)

const (
	contactKind = iota
	contactID
	contactChannel
	contactAddress
	contactHours
)

const (
	webhookKind = iota
	webhookID
	webhookURL
	webhookSecretRef
)

// Contact channels.
const (
	ContactEmail = "email"
	ContactSMS   = "sms"
)

// Contact is an extra address of one organisation: an e-mail address or a
// mobile number for text messages, with the hours it may be prompted in.
type Contact struct {
	RecipientKind events.RecipientKind
	RecipientID   string
	// Channel is ContactEmail or ContactSMS.
	Channel string
	Address string
	// Hours, when HoursSet, are when a prompt that is not urgent may be
	// sent; otherwise any time.
	Hours    calendar.OpeningHours
	HoursSet bool
}

// Webhook is a partner system that receives an organisation's notices.
type Webhook struct {
	RecipientKind events.RecipientKind
	RecipientID   string
	URL           string
	// SecretRef says where the signing secret is kept: env:NAME or
	// file:path. The secret itself is never in the reference data.
	SecretRef string
}

type recipientKey struct {
	kind events.RecipientKind
	id   string
}

// Contacts returns an organisation's extra addresses, in file order.
func (s *Set) Contacts(kind events.RecipientKind, id string) []Contact {
	return slices.Clone(s.contacts[recipientKey{kind, id}])
}

// Webhook returns the partner system that receives an organisation's
// notices, if it has one.
func (s *Set) Webhook(kind events.RecipientKind, id string) (Webhook, bool) {
	w, ok := s.webhooks[recipientKey{kind, id}]
	return w, ok
}

func (l *loader) loadContacts() {
	l.eachOptionalRow(fileContacts, contactColumns, func(c rowCheck) {
		contact := Contact{
			RecipientKind: parsed(c, contactKind, parseRecipientKind),
			RecipientID:   c.required(contactID),
			Channel:       parsed(c, contactChannel, parseContactChannel),
		}
		switch contact.Channel {
		case ContactEmail:
			contact.Address = parsed(c, contactAddress, parseEmail)
		case ContactSMS:
			contact.Address = parsed(c, contactAddress, parseMobile)
		}
		if hours := c.row.fields[contactHours]; hours != "" {
			contact.Hours, contact.HoursSet = parsed(c, contactHours, calendar.ParseOpeningHours), true
		}
		if contact.RecipientKind == "" || contact.RecipientID == "" || contact.Address == "" {
			return
		}
		key := recipientKey{contact.RecipientKind, contact.RecipientID}
		what := fmt.Sprintf("the %s address of %s %s", contact.Channel, contact.RecipientKind, contact.RecipientID)
		if l.claimKey(c, contactAddress, string(key.kind)+" "+key.id+" "+contact.Channel+" "+strings.ToLower(contact.Address), what) {
			l.set.contacts[key] = append(l.set.contacts[key], contact)
		}
	})
}

func (l *loader) loadWebhooks() {
	l.eachOptionalRow(fileWebhooks, webhookColumns, func(c rowCheck) {
		hook := Webhook{
			RecipientKind: parsed(c, webhookKind, parseRecipientKind),
			RecipientID:   c.required(webhookID),
			URL:           parsed(c, webhookURL, parseWebhookURL),
			SecretRef:     parsed(c, webhookSecretRef, parseSecretRef),
		}
		if hook.RecipientKind == "" || hook.RecipientID == "" || hook.URL == "" || hook.SecretRef == "" {
			return
		}
		key := recipientKey{hook.RecipientKind, hook.RecipientID}
		what := fmt.Sprintf("a webhook of %s %s", hook.RecipientKind, hook.RecipientID)
		if l.claimKey(c, webhookID, string(key.kind)+" "+key.id, what) {
			l.set.webhooks[key] = hook
		}
	})
}

func parseRecipientKind(s string) (events.RecipientKind, error) {
	kind := events.RecipientKind(s)
	if !events.IsBuiltinKind(kind) && !events.PlainKindWord(s) {
		return "", fmt.Errorf("%q is not a recipient kind; want one of %s, or a kind the routing policy declares",
			s, joinValues(events.RecipientKinds()))
	}
	return kind, nil
}

func parseContactChannel(s string) (string, error) {
	if s != ContactEmail && s != ContactSMS {
		return "", fmt.Errorf("%q is not a contact channel; want email or sms", s)
	}
	return s, nil
}

// mobile is a UK mobile number as Notify takes it: 07… or +447…, spaces
// allowed.
var mobile = regexp.MustCompile(`^(\+44\s?7|07)[0-9 ]{9,12}$`)

func parseMobile(s string) (string, error) {
	if !mobile.MatchString(s) || len(strings.ReplaceAll(s, " ", "")) > 13 {
		return "", fmt.Errorf("%q is not a UK mobile number (07… or +447…)", s)
	}
	return s, nil
}

func parseWebhookURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http or https URL", s)
	}
	return s, nil
}

// parseSecretRef accepts a reference to a secret, never a secret: the CSV
// is a plaintext file that many people may read.
func parseSecretRef(s string) (string, error) {
	kind, name, ok := strings.Cut(s, ":")
	if !ok || name == "" || (kind != "env" && kind != "file") {
		// The value is not quoted: it may be the secret itself.
		return "", errors.New("not a secret reference; want env:NAME or file:path (the secret itself never goes in this file)")
	}
	return s, nil
}

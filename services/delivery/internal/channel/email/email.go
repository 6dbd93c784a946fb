// Package email sends a notice's prompt as an e-mail over SMTP, with
// github.com/wneessen/go-mail doing the protocol (STARTTLS, implicit TLS,
// authentication, MIME). The prompt carries no personal data: only the kind
// of notice, the recipient organisation, the deadline in UK time and a link
// (contract.md section 5). Its Message-ID comes from the notification id, so
// a retry after a crash sends the same message again, never a different one.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel"
)

// Sender sends prompts through one SMTP server.
type Sender struct {
	host    string
	options []gomail.Option
	from    string
	domain  string
}

// Options are the SMTP settings beyond the server's URL.
type Options struct {
	// From is the sender, such as "Lantern <lantern@council.example>".
	From string
	// Timeout bounds one connection and send.
	Timeout time.Duration
	// TLS, when set, replaces the system's TLS settings (a test's own
	// certificate authority).
	TLS *tls.Config
}

// New reads an SMTP URL: smtp://user:pass@host:587 uses STARTTLS when the
// server offers it, smtps://host:465 implicit TLS; user and password, when
// given, authenticate with the best mechanism the server offers.
func New(rawURL string, o Options) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("LANTERN_SMTP_URL: want smtp://host:port or smtps://host:port")
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("LANTERN_MAIL_FROM: %q is not an e-mail address", o.From)
	}
	opts, err := connectionOptions(u)
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		opts = append(opts, gomail.WithTimeout(o.Timeout))
	}
	if o.TLS != nil {
		opts = append(opts, gomail.WithTLSConfig(o.TLS))
	}
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	return &Sender{host: u.Hostname(), options: opts, from: o.From, domain: domain}, nil
}

func connectionOptions(u *url.URL) ([]gomail.Option, error) {
	var opts []gomail.Option
	port := 587
	switch u.Scheme {
	case "smtp":
		// WithTLSPolicy, not WithTLSPortPolicy: the latter falls back to
		// port 25 when the port given does not answer, which would hand
		// the prompt to whatever listens there.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("LANTERN_SMTP_URL: scheme %q is not smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("LANTERN_SMTP_URL: port %q is not a number", p)
		}
		port = n
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil && u.User.Username() != "" {
		password, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(password))
	}
	return opts, nil
}

// MessageID is the Message-ID of the prompt for one notice to one address,
// without angle brackets (for a manager's alarm, the SLA event's id stands
// in for the notification id): the notification id itself for the recipient's
// own address, and the id with a digest of the address for an extra
// address from contacts.csv, so that each copy has an id of its own that
// is the same on every retry.
func (s *Sender) MessageID(p channel.Prompt, address string) string {
	if strings.EqualFold(address, p.Recipient.Email) {
		return p.MessageKey() + "@" + s.domain
	}
	sum := sha256.Sum256([]byte(strings.ToLower(address)))
	return p.MessageKey() + "." + hex.EncodeToString(sum[:4]) + "@" + s.domain
}

// Send hands one prompt to the SMTP server. A refusal the server marks
// permanent (a 5xx reply) is a channel.PermanentError.
func (s *Sender) Send(ctx context.Context, p channel.Prompt, t channel.Target) (channel.Receipt, error) {
	msg, err := s.Message(p, t.Address)
	if err != nil {
		return channel.Receipt{}, channel.Permanent("building the e-mail: %v", err)
	}
	client, err := gomail.NewClient(s.host, s.options...)
	if err != nil {
		return channel.Receipt{}, channel.Permanent("SMTP settings: %v", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return channel.Receipt{}, classify(err)
	}
	return channel.Receipt{ProviderID: "<" + s.MessageID(p, t.Address) + ">"}, nil
}

func classify(err error) error {
	var send *gomail.SendError
	if errors.As(err, &send) && !send.IsTemp() && send.ErrorCode() >= 500 {
		return channel.Permanent("the SMTP server refused the e-mail (%d)", send.ErrorCode())
	}
	return fmt.Errorf("SMTP: %w", err)
}

// Message builds the prompt for one address: a plain-text part and an HTML
// alternative saying the same. There is no List-Unsubscribe header: these
// are statutory notices, not a mailing list.
func (s *Sender) Message(p channel.Prompt, address string) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, err
	}
	if err := msg.To(address); err != nil {
		return nil, err
	}
	c := content(p)
	msg.Subject(c.Subject)
	msg.SetMessageIDWithValue(s.MessageID(p, address))
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, c.text())
	html, err := c.html()
	if err != nil {
		return nil, err
	}
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	return msg, nil
}

// prompt is everything the e-mail says.
type prompt struct {
	Subject   string
	Kind      string
	Recipient string
	// Due introduces the deadline: what the reader is asked, or for an
	// alarm, which deadline it is.
	Due      string
	Deadline string
	Link     string
	// Ask is the closing paragraph: why the e-mail came and what to do.
	Ask string
}

func content(p channel.Prompt) prompt {
	kind := p.Headline()
	deadline := channel.Deadline(p.DueAt)
	if p.Alarm != nil {
		return prompt{Subject: kind, Kind: kind, Recipient: p.Recipient.Name, Due: "The deadline", Deadline: deadline,
			Link: p.Link, Ask: "This e-mail holds none of the notice's details. You are told as the manager Lantern holds " +
				"for this organisation: please make sure the notice is dealt with. It is a statutory safeguarding alert, " +
				"sent once for this deadline."}
	}
	return prompt{Subject: kind + ": please read it by " + deadline, Kind: kind,
		Recipient: p.Recipient.Name, Due: "Please read it by", Deadline: deadline, Link: p.Link,
		Ask: "This e-mail holds none of the notice's details: sign in to Lantern to read it and to acknowledge it. " +
			"It is a statutory safeguarding notice, sent to your organisation's safeguarding address."}
}

func (c prompt) text() string {
	return c.Kind + ".\n\n" +
		"For: " + c.Recipient + "\n" +
		c.Due + ": " + c.Deadline + "\n\n" +
		"Open the notice in Lantern:\n" + c.Link + "\n\n" +
		c.Ask + "\n"
}

var htmlPrompt = template.Must(template.New("prompt").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5">
<h1 style="font-size: 22px">{{.Kind}}</h1>
<p>For: <strong>{{.Recipient}}</strong></p>
<p>{{.Due}}: <strong>{{.Deadline}}</strong></p>
<p><a href="{{.Link}}" style="font-weight: bold">Open the notice in Lantern</a></p>
<p>{{.Ask}}</p>
</body></html>
`))

func (c prompt) html() (string, error) {
	var b bytes.Buffer
	err := htmlPrompt.Execute(&b, c)
	return b.String(), err
}

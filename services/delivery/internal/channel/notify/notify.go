// Package notify sends a notice's prompt through GOV.UK Notify's REST API:
// e-mail (POST /v2/notifications/email) and text messages
// (POST /v2/notifications/sms), each from a template the service's Notify
// account holds, with the prompt's words as personalisation and the
// notification id as reference. Requests are authenticated as Notify
// documents: a JWT signed HS256 with the API key's secret, issuer the
// service id, issued now. Notify's 201 only says it will try; the channel
// accepts the notice when Notify's delivery receipt (read back with
// GET /v2/notifications/{id}) says delivered, and a permanent-failure
// receipt fails the notice.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel"
)

// DefaultURL is Notify's public API.
const DefaultURL = "https://api.notifications.service.gov.uk"

// Key is a Notify API key: "{key name}-{service id}-{secret}", the service
// id and the secret each a UUID.
type Key struct {
	Name      string
	ServiceID string
	Secret    string
}

var uuidTail = regexp.MustCompile(`^(.+)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)

// ParseKey reads an API key in Notify's format. The error never quotes
// the key.
func ParseKey(s string) (Key, error) {
	m := uuidTail.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Key{}, errors.New("LANTERN_NOTIFY_API_KEY is not a Notify API key ({key name}-{service id}-{secret key}, the last two UUIDs)")
	}
	return Key{Name: m[1], ServiceID: m[2], Secret: m[3]}, nil
}

// Token is the bearer token for one request: a JWT signed HS256 with the
// key's secret, iss the service id and iat now.
func (k Key) Token(now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(k.Secret)},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(jwt.Claims{Issuer: k.ServiceID, IssuedAt: jwt.NewNumericDate(now)}).Serialize()
}

// Options are a Notify sender's settings.
type Options struct {
	// URL is Notify's API; empty means DefaultURL.
	URL string
	// EmailTemplate and SMSTemplate are the ids of the service's
	// templates, each taking the personalisation fields kind, recipient,
	// deadline and link.
	EmailTemplate, SMSTemplate string
	Clock                      clock.Clock
}

// Sender sends prompts through Notify.
type Sender struct {
	key    Key
	o      Options
	client *http.Client
}

// New returns a Notify sender.
func New(key Key, o Options) *Sender {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.Clock == nil {
		o.Clock = clock.System
	}
	return &Sender{key: key, o: o, client: &http.Client{}}
}

// Personalisation is what a template may say: the kind of notice (for a
// manager's alarm, the alarm's headline), the recipient organisation, the
// deadline in UK time and the link. It names no person.
func Personalisation(p channel.Prompt) map[string]string {
	return map[string]string{"kind": p.Headline(), "recipient": p.Recipient.Name,
		"deadline": channel.Deadline(p.DueAt), "link": p.Link}
}

// Send asks Notify to send one prompt and returns Notify's id for it.
func (s *Sender) Send(ctx context.Context, p channel.Prompt, t channel.Target) (channel.Receipt, error) {
	// The reference is the notification id, or the SLA event's id for an
	// alarm about the notice.
	body := map[string]any{"personalisation": Personalisation(p), "reference": p.MessageKey()}
	path := "/v2/notifications/email"
	switch t.Channel {
	case channel.NotifyEmail:
		body["email_address"], body["template_id"] = t.Address, s.o.EmailTemplate
	case channel.NotifySMS:
		path = "/v2/notifications/sms"
		body["phone_number"], body["template_id"] = t.Address, s.o.SMSTemplate
	default:
		return channel.Receipt{}, channel.Permanent("notify cannot send by %s", t.Channel)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := s.call(ctx, http.MethodPost, path, body, http.StatusCreated, &out); err != nil {
		return channel.Receipt{}, err
	}
	if out.ID == "" {
		return channel.Receipt{}, errors.New("notify answered without a notification id")
	}
	return channel.Receipt{ProviderID: out.ID}, nil
}

// Status reads Notify's delivery receipt for one message: nil once
// delivered, channel.ErrInProgress while Notify is still trying, a
// channel.PermanentError for a permanent failure, and another error for a
// temporary or technical failure, which is worth sending again.
func (s *Sender) Status(ctx context.Context, _ channel.Target, providerID string) error {
	var out struct {
		Status string `json:"status"`
	}
	if err := s.call(ctx, http.MethodGet, "/v2/notifications/"+providerID, nil, http.StatusOK, &out); err != nil {
		return err
	}
	switch out.Status {
	case "delivered", "sent":
		return nil
	case "permanent-failure":
		return channel.Permanent("notify reports a permanent failure: the address does not exist or refuses the message")
	case "temporary-failure", "technical-failure":
		return fmt.Errorf("notify reports a %s", out.Status)
	default:
		return channel.ErrInProgress
	}
}

// call makes one authenticated request. Notify's 400 and 403 answers are
// permanent (a bad request, a key Notify refuses); 429 and 5xx are for
// retrying.
func (s *Sender) call(ctx context.Context, method, path string, in any, want int, out any) error {
	var reader io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return channel.Permanent("building the notify request: %v", err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.o.URL+path, reader)
	if err != nil {
		return channel.Permanent("LANTERN_NOTIFY_URL: %v", err)
	}
	token, err := s.key.Token(s.o.Clock.Now())
	if err != nil {
		return channel.Permanent("signing the notify token: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lantern-notify")
	resp, err := s.client.Do(req)
	if err != nil {
		return errors.New("notify could not be reached")
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == want {
		return json.Unmarshal(b, out)
	}
	return answerError(resp.StatusCode, b)
}

// answerError says what Notify refused, from its own error names: never
// the message text, which may quote the request.
func answerError(status int, body []byte) error {
	var e struct {
		Errors []struct {
			Error string `json:"error"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(body, &e)
	name := "error"
	if len(e.Errors) > 0 && e.Errors[0].Error != "" {
		name = e.Errors[0].Error
	}
	if status == http.StatusBadRequest || status == http.StatusForbidden || status == http.StatusNotFound {
		return channel.Permanent("notify refused the request: %d %s", status, name)
	}
	return fmt.Errorf("notify answered %d %s", status, name)
}

// Package webhook posts a notice to a partner's system (a council's case
// management, a school's safeguarding software) as a structured-mode
// CloudEvent, signed per the Standard Webhooks specification: webhook-id is
// the notification id, so every retry of one notice carries the same id and
// the same body, and webhook-signature is
// v1,<base64 HMAC-SHA256 of "id.timestamp.body"> under the receiver's
// secret. The secret is held by reference (env:NAME or file:path), never in
// the reference data.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Sender posts notices to webhooks.
type Sender struct {
	client *http.Client
	clock  clock.Clock
}

// New returns a sender whose requests are bounded by the caller's context.
func New(c clock.Clock) *Sender {
	return &Sender{client: &http.Client{
		// A partner's redirect is not followed: the notice goes only
		// where webhooks.csv says.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, clock: c}
}

// Body is the CloudEvent a notice is posted as: the notice as the router cut
// it down to the recipient's profile, and nothing more. It is built only from
// the stored request, so every retry sends the same bytes.
func Body(p channel.Prompt) ([]byte, error) {
	var n events.NotificationRequestedData
	if err := json.Unmarshal(p.Request, &n); err != nil {
		return nil, err
	}
	data := map[string]any{
		"notification_id": n.NotificationID, "incident_id": n.IncidentID, "rule_id": n.RuleID,
		"recipient": n.Recipient, "child_ids": n.ChildIDs, "due_at": n.DueAt, "profile": n.Profile,
		"lawful_basis": n.LawfulBasis, "notice": n.Notice, "link": p.Link,
	}
	if n.Purpose != "" {
		data["purpose"] = n.Purpose
	}
	return json.Marshal(map[string]any{
		"specversion": "1.0", "id": n.NotificationID, "source": string(events.SourceDelivery),
		"type": string(events.NotificationRequested), "subject": n.NotificationID, "time": n.RequestedAt,
		"datacontenttype": "application/json", "incidentid": n.IncidentID, "data": data,
	})
}

// Sign returns the webhook-signature value for one delivery.
func Sign(secret []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Send posts the notice once. Only a 2xx answer is an acceptance; any other
// answer, a timeout or a refused connection is for retrying.
func (s *Sender) Send(ctx context.Context, p channel.Prompt, t channel.Target) (channel.Receipt, error) {
	secret, err := Secret(t.SecretRef)
	if err != nil {
		return channel.Receipt{}, channel.Permanent("webhook secret: %v", err)
	}
	body, err := Body(p)
	if err != nil {
		return channel.Receipt{}, channel.Permanent("building the webhook body: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Address, bytes.NewReader(body))
	if err != nil {
		return channel.Receipt{}, channel.Permanent("webhook URL: %v", err)
	}
	ts := s.clock.Now().Unix()
	req.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	req.Header.Set(HeaderID, p.NotificationID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, p.NotificationID, ts, body))
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return channel.Receipt{}, errors.New("the webhook did not answer in time")
		}
		return channel.Receipt{}, errors.New("the webhook could not be reached")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return channel.Receipt{}, fmt.Errorf("the webhook answered %d", resp.StatusCode)
	}
	return channel.Receipt{ProviderID: p.NotificationID}, nil
}

// Secret reads a secret by reference: env:NAME from the environment,
// file:path from a file (trailing white space dropped). A secret written
// whsec_<base64>, as Standard Webhooks libraries make them, is the decoded
// bytes; any other is used as it is.
func Secret(ref string) ([]byte, error) {
	kind, name, _ := strings.Cut(ref, ":")
	var value string
	switch kind {
	case "env":
		value = os.Getenv(name)
	case "file":
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("%s cannot be read", ref)
		}
		value = strings.TrimSpace(string(b))
	default:
		return nil, fmt.Errorf("%q is not env:NAME or file:path", ref)
	}
	if value == "" {
		return nil, fmt.Errorf("%s is empty", ref)
	}
	if rest, ok := strings.CutPrefix(value, "whsec_"); ok {
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return b, nil
		}
	}
	return []byte(value), nil
}

// Verify checks a delivery as a receiver would, for tests and for partners
// reading this code: the signature must match and the timestamp must be
// within tolerance of now.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return errors.New("no webhook-timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook-timestamp out of tolerance")
	}
	want := Sign(secret, h.Get(HeaderID), ts, body)
	for _, sig := range strings.Fields(h.Get(HeaderSignature)) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid webhook-signature")
}

// Package config holds the delivery service's settings.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/notify"
)

// Config is read from the environment at start.
type Config struct {
	config.Common
	Consumer  config.Consumer
	Reference config.Reference
	// EventIDs keys the ids of notification.delivered and .failed.
	EventIDs config.EventIDs
	// AdminAddr is where /healthz and /readyz are served.
	AdminAddr string `env:"DELIVERY_ADMIN_ADDR, default=127.0.0.1:9083"`
	Channels  Channels
}

// Channels are the outbound channels of contract.md section 5, each off
// unless configured.
type Channels struct {
	// SMTPURL turns on e-mail prompts: smtp://user:pass@host:587
	// (STARTTLS when offered) or smtps://host:465.
	SMTPURL  string `env:"LANTERN_SMTP_URL"`
	MailFrom string `env:"LANTERN_MAIL_FROM, default=Lantern <lantern@lantern.invalid>"`
	// NotifyAPIKey turns on GOV.UK Notify: e-mail prompts, and text
	// messages for notices due within 4 hours, from the two templates.
	NotifyAPIKey        string `env:"LANTERN_NOTIFY_API_KEY"`
	NotifyURL           string `env:"LANTERN_NOTIFY_URL, default=https://api.notifications.service.gov.uk"`
	NotifyEmailTemplate string `env:"LANTERN_NOTIFY_EMAIL_TEMPLATE"`
	NotifySMSTemplate   string `env:"LANTERN_NOTIFY_SMS_TEMPLATE"`
	// HTTPAddr and PublicURL give the workspace's address for the link in
	// each prompt, as the workspace reads them.
	HTTPAddr  string `env:"LANTERN_HTTP_ADDR, default=127.0.0.1:8080"`
	PublicURL string `env:"LANTERN_PUBLIC_URL"`
	// Attempts, Backoff and MaxBackoff shape the retries of a channel
	// that does not accept: the wait doubles from Backoff up to
	// MaxBackoff, and after Attempts tries the notice is failed.
	Attempts   int           `env:"DELIVERY_CHANNEL_ATTEMPTS, default=8"`
	Backoff    time.Duration `env:"DELIVERY_CHANNEL_BACKOFF, default=5s"`
	MaxBackoff time.Duration `env:"DELIVERY_CHANNEL_MAX_BACKOFF, default=5m"`
	// Timeout bounds one attempt: an SMTP conversation, a Notify call, a
	// webhook that does not answer.
	Timeout time.Duration `env:"DELIVERY_CHANNEL_TIMEOUT, default=30s"`
	// Poll is how often due attempts are looked for.
	Poll time.Duration `env:"DELIVERY_CHANNEL_POLL, default=1s"`
}

// Public is the workspace's address as people reach it.
func (c Channels) Public() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return "http://" + c.HTTPAddr
}

// Validate reports every problem with the channel settings.
func (c Channels) Validate() error {
	var errs []error
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("LANTERN_PUBLIC_URL: %q is not an http or https base address", c.PublicURL))
		}
	}
	if c.NotifyAPIKey != "" {
		if _, err := notify.ParseKey(c.NotifyAPIKey); err != nil {
			errs = append(errs, err)
		}
		if c.NotifyEmailTemplate == "" || c.NotifySMSTemplate == "" {
			errs = append(errs, errors.New("LANTERN_NOTIFY_EMAIL_TEMPLATE and LANTERN_NOTIFY_SMS_TEMPLATE are required with LANTERN_NOTIFY_API_KEY"))
		}
		if u, err := url.Parse(c.NotifyURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("LANTERN_NOTIFY_URL: %q is not an http or https base address", c.NotifyURL))
		}
	}
	if c.Attempts < 1 {
		errs = append(errs, errors.New("DELIVERY_CHANNEL_ATTEMPTS must be at least 1"))
	}
	if c.Backoff <= 0 || c.MaxBackoff < c.Backoff {
		errs = append(errs, errors.New("DELIVERY_CHANNEL_BACKOFF must be positive and at most DELIVERY_CHANNEL_MAX_BACKOFF"))
	}
	if c.Timeout < 100*time.Millisecond {
		errs = append(errs, errors.New("DELIVERY_CHANNEL_TIMEOUT must be at least 100ms"))
	}
	if c.Poll < 10*time.Millisecond {
		errs = append(errs, errors.New("DELIVERY_CHANNEL_POLL must be at least 10ms"))
	}
	return errors.Join(errs...)
}

// AdminAddress is where the service environment serves /healthz and
// /readyz.
func (c *Config) AdminAddress() string { return c.AdminAddr }

// Validate reports every problem at once.
func (c *Config) Validate() error {
	return errors.Join(c.Common.Validate(), c.Consumer.Validate(), c.EventIDs.Validate(), c.Reference.Validate(),
		c.Channels.Validate(), config.CheckAddr("DELIVERY_ADMIN_ADDR", c.AdminAddr))
}

// Package app wires the delivery service: it consumes
// notification.requested, fills inboxes, sends each notice's prompts by the
// channels configured for its recipient, and relays notification.delivered,
// or notification.failed for a request or a channel it has given up on. It
// also consumes escalation's sla.at_risk and sla.breached and e-mails the
// contacts they name by the same channels.
package app

import (
	"context"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/email"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/notify"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/webhook"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/config"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

// Service is the delivery service as the service environment runs it.
var Service = serverenv.Service[config.Config]{Name: "delivery", Build: build}

func build(ctx context.Context, env *serverenv.Env, cfg *config.Config) error {
	sealer, err := env.Sealer(ctx)
	if err != nil {
		return err
	}
	d := inbox.New(env.DB, sealer, clock.System, env.Log)
	d.IDs = cloudevent.KeyedIDs(cfg.EventIDs.Key)
	channels, err := channels(env, cfg)
	if err != nil {
		return err
	}
	d.UseChannels(channels)
	if err := env.Migrate(ctx, d.Migrate); err != nil {
		return err
	}
	spec := d.ConsumerSpec(cfg.Consumer.AckWait)
	spec.Batch = d.Batch(cfg.Consumer.Batch)
	env.Consume(spec, d.Handle)
	env.Relay(d.Outbox(), newDeliveryMetrics(env.Metrics).published)
	env.Go("channels", func(ctx context.Context) error { return d.Dispatch(ctx, cfg.Channels.Poll) })
	return nil
}

// channels builds the senders the settings turn on.
func channels(env *serverenv.Env, cfg *config.Config) (inbox.Channels, error) {
	c := cfg.Channels
	ref, err := env.Reference(cfg.Reference)
	if err != nil {
		return inbox.Channels{}, err
	}
	// Webhooks are on for every organisation webhooks.csv names.
	out := inbox.Channels{Reference: ref.Current, PublicURL: c.Public(), Webhook: webhook.New(clock.System),
		Retry: inbox.Retry{Attempts: c.Attempts, Backoff: c.Backoff, MaxBackoff: c.MaxBackoff, Timeout: c.Timeout}}
	if c.SMTPURL != "" {
		s, err := email.New(c.SMTPURL, email.Options{From: c.MailFrom, Timeout: c.Timeout})
		if err != nil {
			return inbox.Channels{}, err
		}
		out.Email = s
		env.Log.Info("e-mail prompts on")
	}
	if c.NotifyAPIKey != "" {
		key, err := notify.ParseKey(c.NotifyAPIKey)
		if err != nil {
			return inbox.Channels{}, err
		}
		out.Notify = notify.New(key, notify.Options{URL: c.NotifyURL, EmailTemplate: c.NotifyEmailTemplate,
			SMSTemplate: c.NotifySMSTemplate})
		env.Log.Info("GOV.UK Notify on")
	}
	return out, nil
}

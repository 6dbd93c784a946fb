package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/notify"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/notify/notifytest"
)

var now = time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)

var prompt = channel.Prompt{NotificationID: "91070054-ba23-4568-a187-f62054966f2e",
	Recipient: events.Recipient{Kind: events.KindSchool, ID: "118234", Name: "Chatham Hill Primary School"},
	DueAt:     time.Date(2026, 11, 23, 8, 40, 0, 0, time.UTC), Link: "https://lantern.example/notices/91070054-ba23-4568-a187-f62054966f2e"}

func sender(t *testing.T, srv *notifytest.Server, key string, c clock.Clock) *notify.Sender {
	t.Helper()
	k, err := notify.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return notify.New(k, notify.Options{URL: srv.URL, EmailTemplate: uuid.NewString(), SMSTemplate: uuid.NewString(), Clock: c})
}

func TestParseKeyReadsNotifysFormat(t *testing.T) {
	service, secret := uuid.NewString(), uuid.NewString()
	k, err := notify.ParseKey("my-test_key-name-" + service + "-" + secret)
	if err != nil || k.Name != "my-test_key-name" || k.ServiceID != service || k.Secret != secret {
		t.Errorf("ParseKey = %+v, %v", k, err)
	}
	for _, bad := range []string{"", "key", "name-" + service, secret + "-" + service} {
		if _, err := notify.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) succeeded", bad)
		} else if len(bad) > 8 && strings.Contains(err.Error(), bad) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
}

func TestEmailAndTextGoThroughNotifyWithItsAuthentication(t *testing.T) {
	srv := notifytest.Start(t, func() time.Time { return now })
	s := sender(t, srv, srv.APIKey(), clock.NewFake(now))
	r, err := s.Send(context.Background(), prompt, channel.Target{Channel: channel.NotifyEmail, Address: "dsl@chathamhill.lantern.test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), prompt, channel.Target{Channel: channel.NotifySMS, Address: "07700 900123"}); err != nil {
		t.Fatal(err)
	}
	sent := srv.Sent()
	if len(sent) != 2 || sent[0].ID != r.ProviderID || sent[0].Kind != "email" || sent[1].Kind != "sms" {
		t.Fatalf("sent = %+v", sent)
	}
	for _, m := range sent {
		if m.Reference != prompt.NotificationID {
			t.Errorf("%s reference = %q, want the notification id", m.Kind, m.Reference)
		}
		want := map[string]string{"kind": "An Operation Encompass notice for your school", "recipient": "Chatham Hill Primary School",
			"deadline": "08:40 on Monday 23 November 2026 (UK time)", "link": prompt.Link}
		for k, v := range want {
			if m.Personalisation[k] != v {
				t.Errorf("%s personalisation %s = %q, want %q", m.Kind, k, m.Personalisation[k], v)
			}
		}
		if len(m.Personalisation) != len(want) {
			t.Errorf("%s personalisation carries more than the prompt: %v", m.Kind, m.Personalisation)
		}
	}
	if err := s.Status(context.Background(), channel.Target{}, r.ProviderID); err != nil {
		t.Errorf("Status of a delivered e-mail = %v", err)
	}
}

func TestNotifyRefusesABadToken(t *testing.T) {
	srv := notifytest.Start(t, func() time.Time { return now })
	target := channel.Target{Channel: channel.NotifyEmail, Address: "dsl@chathamhill.lantern.test"}
	for name, s := range map[string]*notify.Sender{
		"wrong secret":     sender(t, srv, "lantern_test-"+srv.ServiceID+"-"+uuid.NewString(), clock.NewFake(now)),
		"wrong service":    sender(t, srv, "lantern_test-"+uuid.NewString()+"-"+srv.Secret, clock.NewFake(now)),
		"iat 31 s too old": sender(t, srv, srv.APIKey(), clock.NewFake(now.Add(-31*time.Second))),
		"iat in future":    sender(t, srv, srv.APIKey(), clock.NewFake(now.Add(time.Minute))),
	} {
		_, err := s.Send(context.Background(), prompt, target)
		if !channel.IsPermanent(err) || !strings.Contains(err.Error(), "403 AuthError") {
			t.Errorf("%s: err = %v, want a permanent 403 AuthError", name, err)
		}
	}
	if srv.Refused() != 4 || len(srv.Sent()) != 0 {
		t.Errorf("refused %d, sent %d; want 4 refused and nothing sent", srv.Refused(), len(srv.Sent()))
	}
	if _, err := sender(t, srv, srv.APIKey(), clock.NewFake(now.Add(-29*time.Second))).Send(context.Background(), prompt, target); err != nil {
		t.Errorf("a token 29 s old was refused: %v", err)
	}
}

func TestReceiptsBecomeOutcomes(t *testing.T) {
	srv := notifytest.Start(t, func() time.Time { return now })
	s := sender(t, srv, srv.APIKey(), clock.NewFake(now))
	r, err := s.Send(context.Background(), prompt, channel.Target{Channel: channel.NotifyEmail, Address: "dsl@chathamhill.lantern.test"})
	if err != nil {
		t.Fatal(err)
	}
	for status, check := range map[string]func(error) bool{
		"created":           func(err error) bool { return err == channel.ErrInProgress },
		"sending":           func(err error) bool { return err == channel.ErrInProgress },
		"delivered":         func(err error) bool { return err == nil },
		"permanent-failure": channel.IsPermanent,
		"temporary-failure": func(err error) bool { return err != nil && !channel.IsPermanent(err) && err != channel.ErrInProgress },
		"technical-failure": func(err error) bool { return err != nil && !channel.IsPermanent(err) && err != channel.ErrInProgress },
	} {
		srv.SetStatus(r.ProviderID, status)
		if err := s.Status(context.Background(), channel.Target{}, r.ProviderID); !check(err) {
			t.Errorf("receipt %s: Status = %v", status, err)
		}
	}
}

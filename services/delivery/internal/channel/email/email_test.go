package email_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/smtptest"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/email"
)

func prompt() channel.Prompt {
	return channel.Prompt{NotificationID: "91070054-ba23-4568-a187-f62054966f2e",
		Recipient: events.Recipient{Kind: events.KindSchool, ID: "999001", Name: "Example Primary School", Email: "dsl@example.test"},
		DueAt:     time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC), Link: "https://lantern.example/notices/91070054-ba23-4568-a187-f62054966f2e"}
}

func TestServerDownIsNeverRetriedOnPort25(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s, err := email.New("smtp://"+addr, email.Options{From: "Lantern <lantern@lantern.test>", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), prompt(), channel.Target{Channel: channel.Email, Address: "dsl@example.test"})
	if err == nil || channel.IsPermanent(err) {
		t.Fatalf("send to a server that is down = %v, want a temporary failure", err)
	}
	if strings.Contains(err.Error(), ":25:") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q: want a failure to reach %s and no other port", err, addr)
	}
}

func TestAlarmIsNamedFromItsEventAndSaysWhatIsLate(t *testing.T) {
	srv := smtptest.Start(t)
	s, err := email.New(srv.URL(), email.Options{From: "Lantern <lantern@lantern.test>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := prompt()
	p.Alarm = &channel.Alarm{EventID: "0332f181-42da-437d-9d51-0a7e44f14e95", Level: channel.LevelAtRisk, Step: "acknowledgement"}
	r, err := s.Send(context.Background(), p, channel.Target{Channel: channel.Email, Address: "dsl@example.test"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if want := "<0332f181-42da-437d-9d51-0a7e44f14e95@lantern.test>"; r.ProviderID != want || msgs[0].Header("Message-Id") != want {
		t.Errorf("Message-ID %q (receipt %q), want %q: the alarm must not reuse the notice's", msgs[0].Header("Message-Id"), r.ProviderID, want)
	}
	if got, want := msgs[0].Header("Subject"), "Deadline at risk: a notice for Example Primary School has not been acknowledged"; got != want {
		t.Errorf("Subject %q, want %q", got, want)
	}
}

package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/smtptest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// smtpOutage is how long the mail server stays away: long enough for
// delivery, retrying every second at most, to be refused many times over.
const smtpOutage = 30 * time.Second

// TestSMTPDownForThirtySecondsThenBackSendsEachPromptOnce takes the mail
// server off its address before the sample notice is posted, keeps it away
// for smtpOutage while delivery retries, and brings it back on the same
// address: every prompt then arrives exactly once under its own
// Message-ID, no channel gives up, and each notice is announced delivered
// once.
func TestSMTPDownForThirtySecondsThenBackSendsEachPromptOnce(t *testing.T) {
	srv := smtptest.Start(t)
	// Retries every 200ms to 1s over 30 seconds are about 35 attempts; far
	// more are allowed, so that only a lost or doubled prompt can fail.
	env := append(channelEnv(srv), "DELIVERY_CHANNEL_ATTEMPTS=200")
	p := pipeline{Cluster: cluster.New(t, cluster.Options{Env: env}), t: t}
	srv.Down()
	down := time.Now()
	id := p.accept(cluster.SamplePPN(t))
	recipients := p.decided(id)
	emailed := p.refusedThroughout(id, len(recipients), down)
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages reached a mail server that was down", n)
	}
	srv.Up()
	p.deliveredOnce(id, len(recipients))
	perID := map[string]int{}
	for _, m := range srv.Messages() {
		perID[m.Header("Message-Id")]++
	}
	for _, n := range emailed {
		if got := perID["<"+n.id+"@lantern.test>"]; got != 1 {
			t.Errorf("%s: %d prompts with its Message-ID, want exactly 1", n.recipient, got)
		}
		if got := len(srv.To(n.email)); got != 1 {
			t.Errorf("%s: %d prompts to %s, want exactly 1", n.recipient, got, n.email)
		}
	}
	if got := len(srv.Messages()); got != len(emailed) {
		t.Errorf("the server received %d messages for %d prompts: %v", got, len(emailed), perID)
	}
	if n := p.count(`SELECT count(*) FROM ledger.entries WHERE incident_id = $1 AND event_type LIKE '%notification.failed%'`, id); n != 0 {
		t.Errorf("%d notices were given up although the server came back", n)
	}
	p.assertExactlyOnce()
}

// refusedThroughout waits until every one of the incident's notices is in
// the inbox, and every e-mail prompt has been refused at least three times
// and smtpOutage has passed since down, all while none of those notices is
// announced delivered or failed. It returns the notices with an e-mail
// prompt.
func (p pipeline) refusedThroughout(incidentID string, want int, down time.Time) []notice {
	p.t.Helper()
	var emailed []notice
	p.WaitFor(smtpOutage+60*time.Second, func() error {
		if n := p.count(`SELECT count(*) FROM ledger.entries e JOIN delivery.channel_attempt a ON a.notification_id::text = e.subject
			WHERE e.incident_id = $1 AND (e.event_type LIKE '%notification.delivered%' OR e.event_type LIKE '%notification.failed%')`,
			incidentID); n != 0 {
			p.t.Fatalf("%d notices with an e-mail prompt were settled while the mail server was down", n)
		}
		notices := p.notices(incidentID)
		if len(notices) < want {
			return fmt.Errorf("%d of %d notices in the inbox", len(notices), want)
		}
		emailed = emailed[:0]
		for _, n := range notices {
			if n.email != "" {
				emailed = append(emailed, n)
			}
		}
		if len(emailed) == 0 {
			p.t.Fatal("no notice of the sample incident has an e-mail address")
		}
		refused := p.count(`SELECT count(*) FROM delivery.channel_attempt a JOIN delivery.inbox i USING (notification_id)
			WHERE i.incident_id = $1 AND a.channel = 'email' AND a.state = 'pending' AND a.attempts >= 3 AND a.last_error <> ''`,
			incidentID)
		if refused < len(emailed) {
			return fmt.Errorf("%d of %d e-mail prompts refused three times", refused, len(emailed))
		}
		if left := smtpOutage - time.Since(down); left > 0 {
			return fmt.Errorf("the outage has %s to run", left.Round(time.Second))
		}
		return nil
	})
	return emailed
}

package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/faults"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/smtptest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// samplePersonal is every personal string of docs/sample-ppn.json: no
// prompt may hold any of them.
var samplePersonal = []string{"Jane Doe", "John Roe", "Amy Doe", "Doe", "1994-03-02", "1990-07-15", "2019-05-01",
	"2027-02-10", "9434765919", "ME4 4TR", "ME4", "KNT-26-112233", "said she hid upstairs", "family home",
	"free text, for the MASH only", "PC Smith", "KNT-4411", "01622 000000", "P-1", "P-2", "C-1"}

// channelEnv turns e-mail prompts on against srv, with retries quick
// enough for a test.
func channelEnv(srv *smtptest.Server) []string {
	return []string{"LANTERN_SMTP_URL=" + srv.URL(), "LANTERN_MAIL_FROM=Lantern <lantern@lantern.test>",
		"DELIVERY_CHANNEL_BACKOFF=200ms", "DELIVERY_CHANNEL_MAX_BACKOFF=1s", "DELIVERY_CHANNEL_POLL=100ms",
		"DELIVERY_CHANNEL_TIMEOUT=5s"}
}

// notice is one delivered notice as the inbox holds it.
type notice struct {
	id, recipient, email string
	due                  time.Time
}

func (p pipeline) notices(incidentID string) []notice {
	p.t.Helper()
	rows, err := p.Pool.Query(p.t.Context(), `SELECT notification_id::text, recipient_kind || '/' || recipient_id,
		coalesce(request->'recipient'->>'email', ''), due_at FROM delivery.inbox WHERE incident_id = $1 ORDER BY 2`, incidentID)
	if err != nil {
		p.t.Fatal(err)
	}
	defer rows.Close()
	var out []notice
	for rows.Next() {
		var n notice
		if err := rows.Scan(&n.id, &n.recipient, &n.email, &n.due); err != nil {
			p.t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// deliveredOnce waits until every notice of the incident is announced
// delivered, and fails if any is announced twice.
func (p pipeline) deliveredOnce(incidentID string, want int) {
	p.t.Helper()
	p.WaitFor(90*time.Second, func() error {
		n := p.count(`SELECT count(*) FROM ledger.entries WHERE incident_id = $1 AND event_type LIKE '%notification.delivered%'`, incidentID)
		if n < want {
			return fmt.Errorf("%d of %d notices delivered", n, want)
		}
		return nil
	})
	if dup := p.count(`SELECT count(*) FROM (SELECT subject FROM ledger.entries WHERE incident_id = $1
		AND event_type LIKE '%notification.delivered%' GROUP BY subject HAVING count(*) > 1) d`, incidentID); dup != 0 {
		p.t.Errorf("%d notices announced delivered more than once", dup)
	}
}

func TestEmailPromptsReachEveryRecipientWithoutPersonalData(t *testing.T) {
	srv := smtptest.Start(t)
	services := append(slices.Clone(cluster.Pipeline), "workspace")
	p := pipeline{Cluster: cluster.New(t, cluster.Options{Services: services, Env: channelEnv(srv)}), t: t}
	id := p.accept(cluster.SamplePPN(t))
	recipients := p.decided(id)
	p.deliveredOnce(id, len(recipients))
	notices := p.notices(id)
	if len(notices) != len(recipients) {
		t.Fatalf("inbox holds %d notices, want %d", len(notices), len(recipients))
	}
	emailed := 0
	for _, n := range notices {
		if n.email == "" {
			continue
		}
		emailed++
		msgs := srv.To(n.email)
		if len(msgs) != 1 {
			t.Errorf("%s: %d prompts to %s, want 1", n.recipient, len(msgs), n.email)
			continue
		}
		m := msgs[0]
		if got, want := m.Header("Message-Id"), "<"+n.id+"@lantern.test>"; got != want {
			t.Errorf("%s: Message-ID %q, want %q", n.recipient, got, want)
		}
		text, html := m.Bodies(t)
		text += html
		deadline := n.due.In(calendar.London).Format("15:04 on Monday 2 January 2006") + " (UK time)"
		for _, want := range []string{p.BaseURL + "/notices/" + n.id, deadline} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: prompt lacks %q", n.recipient, want)
			}
		}
		for _, s := range samplePersonal {
			if strings.Contains(string(m.Raw), s) || strings.Contains(text, s) {
				t.Errorf("%s: the prompt holds personal data %q", n.recipient, s)
			}
		}
	}
	if emailed == 0 || len(srv.Messages()) != emailed {
		t.Errorf("the server received %d messages for %d notices with an address", len(srv.Messages()), emailed)
	}
	p.assertWorkspaceShowsTheChannels(notices)
	p.assertExactlyOnce()
}

// assertWorkspaceShowsTheChannels waits for the workspace to hold, for
// each notice, the e-mail that carried it and when, as its notice page
// shows them.
func (p pipeline) assertWorkspaceShowsTheChannels(notices []notice) {
	p.t.Helper()
	p.WaitFor(60*time.Second, func() error {
		for _, n := range notices {
			if n.email == "" {
				continue
			}
			got := p.strings(`SELECT c->>'channel' || ' ' || (c->>'provider_id') FROM workspace.deliveries d,
				jsonb_array_elements(d.channels) c WHERE d.notification_id = $1`, n.id)
			if want := "email <" + n.id + "@lantern.test>"; len(got) != 1 || got[0] != want {
				return fmt.Errorf("%s: workspace channels %v, want [%s]", n.recipient, got, want)
			}
		}
		return nil
	})
}

func TestDeliveryKilledAfterTheMailServerAcceptedResendsTheSameMessage(t *testing.T) {
	srv := smtptest.Start(t)
	p := pipeline{Cluster: cluster.New(t, cluster.Options{Env: channelEnv(srv)}), t: t}
	p.Stop("delivery")
	p.Start("delivery", faults.EnvVar+"="+faults.ChannelAfterAccept)
	id := p.accept(cluster.SamplePPN(t))
	if err := p.WaitExit("delivery", 60*time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("delivery should have been killed after the server accepted a prompt, got %v", err)
	}
	if len(srv.Messages()) == 0 {
		t.Fatal("delivery was killed before any prompt reached the server")
	}
	p.Start("delivery")
	recipients := p.decided(id)
	p.deliveredOnce(id, len(recipients))
	ids := map[string]int{}
	for _, m := range srv.Messages() {
		ids[m.Header("Message-Id")]++
	}
	resent := 0
	for _, n := range p.notices(id) {
		if n.email == "" {
			continue
		}
		for _, m := range srv.To(n.email) {
			if got := m.Header("Message-Id"); got != "<"+n.id+"@lantern.test>" {
				t.Errorf("%s: a prompt with Message-ID %q, want only %q", n.recipient, got, "<"+n.id+"@lantern.test>")
			}
		}
		if c := ids["<"+n.id+"@lantern.test>"]; c > 1 {
			resent++
		} else if c != 1 {
			t.Errorf("%s: %d prompts", n.recipient, c)
		}
	}
	// Delivery sends up to four prompts at once, so the kill may catch
	// several in flight: each of those, and only those, goes again, under
	// the same Message-ID.
	if resent < 1 || resent > 4 {
		t.Errorf("%d prompts were sent again after the kill, want those in flight, 1 to 4 (%v)", resent, ids)
	}
	p.assertExactlyOnce()
}

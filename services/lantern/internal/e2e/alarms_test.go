package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/smtptest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// managerContacts name a manager for the sample notice's school and MASH,
// and the sending force's desk, so that each alarm has a contact of its own.
const managerContacts = `recipient_kind,recipient_id,manager_name,manager_email
school,118234,Medway education safeguarding,education-safeguarding@medway.lantern.test
mash,E06000035,Medway MASH duty manager,mash-managers@medway.lantern.test
police,KENT,Kent Police PPN desk,ppn-desk@kent.police.lantern.test
`

// alarmPipeline runs the pipeline, escalation and the workspace with e-mail
// prompts on against srv and the manager contacts above.
func alarmPipeline(t *testing.T, srv *smtptest.Server) pipeline {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(cluster.Root(), "reference"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "escalation_contacts.csv"), []byte(managerContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(channelEnv(srv), "LANTERN_REFERENCE_DIR="+dir, "LANTERN_SLA_TICK=200ms")
	services := append(slices.Clone(cluster.Pipeline), "escalation")
	return pipeline{Cluster: cluster.New(t, cluster.Options{Services: services, Env: env}), t: t}
}

// breach is one sla.breached the ledger holds, with the contacts it names.
type breach struct {
	eventID, notificationID, step string
	contacts                      []string
}

func (p pipeline) breaches(incidentID string) []breach {
	p.t.Helper()
	var out []breach
	for _, raw := range p.strings(`SELECT convert_from(event, 'UTF8') FROM ledger.entries WHERE incident_id = $1 AND event_type = $2
		ORDER BY seq`, incidentID, string(events.SLABreached)) {
		e := event.New()
		if err := e.UnmarshalJSON([]byte(raw)); err != nil {
			p.t.Fatal(err)
		}
		var d events.SLAData
		if err := e.DataAs(&d); err != nil {
			p.t.Fatal(err)
		}
		b := breach{eventID: e.ID(), notificationID: d.NotificationID, step: d.Step}
		for _, c := range []string{d.ManagerContact, d.PoliceContact} {
			if c != "" {
				b.contacts = append(b.contacts, c)
			}
		}
		out = append(out, b)
	}
	return out
}

// alarmsFor are the messages named from one SLA event to one address.
func alarmsFor(srv *smtptest.Server, eventID, address string) []smtptest.Message {
	var out []smtptest.Message
	for _, m := range srv.To(address) {
		if strings.HasPrefix(m.Header("Message-Id"), "<"+eventID+".") || m.Header("Message-Id") == "<"+eventID+"@lantern.test>" {
			out = append(out, m)
		}
	}
	return out
}

func TestBreachTellsEachManagerContactOnceByEmailThroughAnOutageAndARestart(t *testing.T) {
	srv := smtptest.Start(t)
	p := alarmPipeline(t, srv)
	srv.Down()
	// The sample incident is weeks old: its notices are past their
	// deadlines when they arrive, so escalation raises breaches at its
	// first tick, among them the MASH's receipt breach, which also tells
	// the force.
	id := p.accept(cluster.SamplePPN(t))
	var found []breach
	p.WaitFor(90*time.Second, func() error {
		found = p.breaches(id)
		for _, b := range found {
			if b.step == events.StepReceipt && len(b.contacts) == 2 {
				return nil
			}
		}
		return fmt.Errorf("%d breaches, none yet a receipt breach naming the manager and the force", len(found))
	})
	// Delivery retries against the server that is down, then it is back.
	p.WaitFor(60*time.Second, func() error {
		if n := p.count(`SELECT count(*) FROM delivery.alarm_attempt WHERE attempts >= 2`); n == 0 {
			return fmt.Errorf("no alarm tried twice yet")
		}
		return nil
	})
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages while the server was down", n)
	}
	srv.Up()
	check := func() error {
		found = p.breaches(id)
		for _, b := range found {
			for _, c := range b.contacts {
				if n := len(alarmsFor(srv, b.eventID, c)); n != 1 {
					return fmt.Errorf("breach %s (%s) to %s: %d e-mails, want 1", b.eventID, b.step, c, n)
				}
			}
		}
		return nil
	}
	p.WaitFor(90*time.Second, check)
	contacts := map[string]bool{}
	for _, b := range found {
		for _, c := range b.contacts {
			contacts[c] = true
		}
	}
	for _, want := range []string{"education-safeguarding@medway.lantern.test", "mash-managers@medway.lantern.test",
		"ppn-desk@kent.police.lantern.test"} {
		if !contacts[want] {
			t.Errorf("no breach told %s (contacts told: %v)", want, contacts)
		}
	}
	// A restart of delivery, and more passes, send nothing again.
	p.WaitFor(60*time.Second, func() error {
		if n := p.count(`SELECT (SELECT count(*) FROM delivery.alarm_attempt WHERE state = 'pending') +
			(SELECT count(*) FROM delivery.channel_attempt WHERE state = 'pending')`); n != 0 {
			return fmt.Errorf("%d messages still pending", n)
		}
		return nil
	})
	before := len(srv.Messages())
	p.Stop("delivery")
	p.Start("delivery")
	// Time for a restarted delivery to take any redelivered event and
	// make its passes: what is checked is that nothing more arrives.
	time.Sleep(3 * time.Second)
	if err := check(); err != nil {
		t.Error(err)
	}
	for _, b := range found {
		for _, c := range b.contacts {
			for _, m := range alarmsFor(srv, b.eventID, c) {
				text, html := m.Bodies(t)
				text += html
				for _, want := range []string{"Deadline missed", p.BaseURL + "/notices/" + b.notificationID} {
					if !strings.Contains(text, want) {
						t.Errorf("breach e-mail to %s lacks %q", c, want)
					}
				}
				for _, s := range samplePersonal {
					if strings.Contains(string(m.Raw), s) || strings.Contains(text, s) {
						t.Errorf("breach e-mail to %s holds personal data %q", c, s)
					}
				}
			}
		}
	}
	if after := len(srv.Messages()); after != before {
		t.Errorf("%d messages after the restart, %d before: something was sent twice", after, before)
	}
	p.assertExactlyOnce()
}

package refdata_test

import (
	"strings"
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

func TestContactsAndWebhooksLoad(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, withFiles(map[string]string{
		"contacts.csv": "recipient_kind,recipient_id,channel,address,hours\n" +
			"school,118234,email,dsl@chathamhill.lantern.test,Mon-Fri 06:30-18:00\n" +
			"mash,E06000035,sms,07700 900123,\n",
		"webhooks.csv": "recipient_kind,recipient_id,url,secret_ref\n" +
			"mash,E06000035,https://mosaic.medway.lantern.test/lantern,env:MEDWAY_WEBHOOK_SECRET\n",
	}))
	set, err := refdata.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	school := set.Contacts(events.KindSchool, "118234")
	if len(school) != 1 || !school[0].HoursSet || school[0].Hours.Text != "Mon-Fri 06:30-18:00" {
		t.Errorf("school contacts = %+v", school)
	}
	mash := set.Contacts(events.KindMASH, "E06000035")
	if len(mash) != 1 || mash[0].Channel != refdata.ContactSMS || mash[0].HoursSet {
		t.Errorf("MASH contacts = %+v", mash)
	}
	hook, ok := set.Webhook(events.KindMASH, "E06000035")
	if !ok || hook.SecretRef != "env:MEDWAY_WEBHOOK_SECRET" {
		t.Errorf("webhook = %+v, %v", hook, ok)
	}
	if _, ok := set.Webhook(events.KindSchool, "118234"); ok {
		t.Error("a school without a webhook row has one")
	}
}

func TestOutboundFilesAreOptional(t *testing.T) {
	t.Parallel()
	set, err := refdata.Load(writeFolder(t, withFiles(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Contacts(events.KindSchool, "118234")) != 0 {
		t.Error("contacts without contacts.csv")
	}
}

func TestWebhookSecretsAreRefusedInTheFile(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, withFiles(map[string]string{
		"webhooks.csv": "recipient_kind,recipient_id,url,secret_ref\n" +
			"mash,E06000035,https://mosaic.medway.lantern.test/lantern,whsec_c2VjcmV0\n" +
			"mash,E06000036,ftp://mosaic.lantern.test,env:X\n",
		"contacts.csv": "recipient_kind,recipient_id,channel,address,hours\n" +
			"school,118234,fax,01234,\n" +
			"school,118234,sms,01622 000000,\n" +
			"school,118234,email,dsl@chathamhill.lantern.test,Mornings\n",
	}))
	_, err := refdata.Load(dir)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	for _, want := range []string{"webhooks.csv line 2, field secret_ref", "webhooks.csv line 3, field url",
		"contacts.csv line 2, field channel", "contacts.csv line 3, field address", "contacts.csv line 4, field hours"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("the error quotes the secret: %v", err)
	}
}

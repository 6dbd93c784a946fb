package inbox_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/smtptest"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/email"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/webhook"
	"github.com/lantern-safeguarding/lantern/services/delivery/internal/inbox"
)

// The example request's recipient and the strings of its notice that are
// personal data: none may appear in a prompt.
const (
	exampleAddress = "dsl@example-primary.example"
	exampleID      = "91070054-ba23-4568-a187-f62054966f2e"
)

var examplePersonal = []string{"Cara Example", "Cara", "2019-05-01", "KNT-26-990001", "ME99 9ZZ", "ME99",
	"said she hid upstairs", "family home", "C-1", "273ec4c6-58d1-4ae9-90fa-cbe7e5cbf512"}

// friday2300 is 23:00 UK time on Friday 20 November 2026, after the
// example incident; the example notice is due at 08:30 on Monday.
var friday2300 = time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)

type rig struct {
	d     *inbox.Deliverer
	pool  *pgxpool.Pool
	clock *clock.Fake
	smtp  *smtptest.Server
}

func newRig(t *testing.T, ref *refdata.Set, retry inbox.Retry) rig {
	t.Helper()
	_, pool := pgtest.NewPool(t, "delivery-empty", nil)
	c := clock.NewFake(friday2300)
	d := inbox.New(pool, sealedtest.New(t, pool), c, zaptest.NewLogger(t))
	srv := smtptest.Start(t)
	sender, err := email.New(srv.URL(), email.Options{From: "Lantern <lantern@lantern.test>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ch := inbox.Channels{Email: sender, Webhook: webhook.New(c), PublicURL: "https://lantern.example/", Retry: retry}
	if ref != nil {
		ch.Reference = func() *refdata.Set { return ref }
	}
	d.UseChannels(ch)
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rig{d: d, pool: pool, clock: c, smtp: srv}
}

// request is the example notification.requested with its own notification
// id and deadline.
func request(t *testing.T, id string, due time.Time) cloudevent.Event {
	t.Helper()
	e := requested(t)
	var data map[string]any
	if err := json.Unmarshal(e.Data(), &data); err != nil {
		t.Fatal(err)
	}
	data["notification_id"] = id
	data["due_at"] = due.UTC().Format(time.RFC3339)
	if err := e.SetData("application/json", data); err != nil {
		t.Fatal(err)
	}
	e.SetID(cloudevent.DeriveID(id, "requested"))
	e.SetSubject(id)
	return e
}

func (r rig) handle(t *testing.T, e cloudevent.Event) {
	t.Helper()
	if err := r.d.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func (r rig) dispatch(t *testing.T) {
	t.Helper()
	if _, err := r.d.DispatchDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// onlyEvent decodes the data of the one event of type typ in the outbox,
// failing the test unless there is exactly one.
func onlyEvent[T any](t *testing.T, r rig, typ events.Type) T {
	t.Helper()
	got := r.events(t, typ)
	if len(got) != 1 {
		t.Fatalf("%s events = %d, want 1", typ, len(got))
	}
	var data T
	if err := json.Unmarshal(got[0], &data); err != nil {
		t.Fatal(err)
	}
	return data
}

// events returns the data of every event of one type in the outbox.
func (r rig) events(t *testing.T, typ events.Type) []json.RawMessage {
	t.Helper()
	rows, err := r.pool.Query(context.Background(), `SELECT event FROM delivery.outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var e cloudevent.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		if e.Type() == string(typ) {
			out = append(out, e.Data())
		}
	}
	return out
}

func TestEmailPromptCarriesNoPersonalData(t *testing.T) {
	r := newRig(t, nil, inbox.Retry{})
	r.handle(t, requested(t))
	if got := r.events(t, events.NotificationDelivered); len(got) != 0 {
		t.Fatalf("delivered before the e-mail was accepted: %s", got)
	}
	r.dispatch(t)
	msgs := r.smtp.To(exampleAddress)
	if len(msgs) != 1 || len(r.smtp.Messages()) != 1 {
		t.Fatalf("messages = %d (to the recipient %d), want one prompt", len(r.smtp.Messages()), len(msgs))
	}
	m := msgs[0]
	if got, want := m.Header("Message-Id"), "<"+exampleID+"@lantern.test>"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if m.Header("List-Unsubscribe") != "" {
		t.Error("the prompt has a List-Unsubscribe header; statutory notices have none")
	}
	text, html := m.Bodies(t)
	for _, part := range []string{text, html} {
		for _, want := range []string{"https://lantern.example/notices/" + exampleID, "08:30 on Monday 23 November 2026 (UK time)",
			"Example Primary School", "Operation Encompass"} {
			if !strings.Contains(part, want) {
				t.Errorf("prompt lacks %q:\n%s", want, part)
			}
		}
	}
	for _, s := range examplePersonal {
		for name, where := range map[string]string{"raw message": string(m.Raw), "text": text, "html": html} {
			if strings.Contains(strings.ToLower(where), strings.ToLower(s)) {
				t.Errorf("the %s holds personal data %q", name, s)
			}
		}
	}
	d := onlyEvent[events.NotificationDeliveredData](t, r, events.NotificationDelivered)
	if len(d.Channels) != 1 || d.Channels[0].Channel != "email" || d.Channels[0].ProviderID != "<"+exampleID+"@lantern.test>" ||
		!d.Channels[0].AcceptedAt.Equal(friday2300) {
		t.Errorf("delivered channels = %+v, want the e-mail's acceptance", d.Channels)
	}
	r.dispatch(t)
	if n := len(r.smtp.Messages()); n != 1 {
		t.Errorf("a second pass sent again: %d messages", n)
	}
}

func TestSMTPDownThenBackSendsEachPromptOnce(t *testing.T) {
	r := newRig(t, nil, inbox.Retry{Attempts: 10, Backoff: 2 * time.Second, MaxBackoff: 10 * time.Second})
	ids := []string{"b6f1d9a8-3c39-4d6e-9a51-0e8a7e1c0001", "b6f1d9a8-3c39-4d6e-9a51-0e8a7e1c0002", "b6f1d9a8-3c39-4d6e-9a51-0e8a7e1c0003"}
	r.smtp.Down()
	for _, id := range ids {
		r.handle(t, request(t, id, friday2300.Add(60*time.Hour)))
	}
	// Thirty seconds of the deliverer's time with the server down, a
	// pass every second as the service polls.
	for range 30 {
		r.dispatch(t)
		r.clock.Advance(time.Second)
	}
	if n := len(r.smtp.Messages()); n != 0 {
		t.Fatalf("%d messages while the server was down", n)
	}
	if got := r.events(t, events.NotificationFailed); len(got) != 0 {
		t.Fatalf("gave up while retries remained: %s", got)
	}
	r.smtp.Up()
	for range 30 {
		r.dispatch(t)
		r.clock.Advance(time.Second)
	}
	for _, id := range ids {
		var n int
		for _, m := range r.smtp.Messages() {
			if strings.Contains(m.Header("Message-Id"), id) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("notice %s: %d prompts, want exactly 1", id, n)
		}
	}
	if got := len(r.events(t, events.NotificationDelivered)); got != len(ids) {
		t.Errorf("delivered events = %d, want %d", got, len(ids))
	}
}

func TestChannelGivesUpIntoFailedAndTheInboxKeepsTheNotice(t *testing.T) {
	r := newRig(t, nil, inbox.Retry{Attempts: 3, Backoff: time.Second, MaxBackoff: time.Second})
	r.smtp.Down()
	r.handle(t, requested(t))
	for range 10 {
		r.dispatch(t)
		r.clock.Advance(time.Second)
	}
	f := onlyEvent[events.NotificationFailedData](t, r, events.NotificationFailed)
	if f.NotificationID != exampleID || f.Attempts != 3 || !strings.Contains(f.Reason, "email channel gave up after 3 attempt(s)") {
		t.Errorf("failed = %+v", f)
	}
	for _, s := range examplePersonal {
		if strings.Contains(f.Reason, s) {
			t.Errorf("the reason quotes personal data %q", s)
		}
	}
	if n := count(t, r.pool, "inbox"); n != 1 {
		t.Errorf("inbox rows = %d, want the notice kept", n)
	}
	if got := r.events(t, events.NotificationDelivered); len(got) != 0 {
		t.Errorf("a failed notice was announced delivered")
	}
}

// referenceWith is the sample reference data plus the files given.
func referenceWith(t *testing.T, files map[string]string) *refdata.Set {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "reference")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	set, err := refdata.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestPromptWaitsForTheRecipientsHoursButNeverPastTheDeadline(t *testing.T) {
	ref := referenceWith(t, map[string]string{"contacts.csv": "recipient_kind,recipient_id,channel,address,hours\n" +
		"school,999001,email," + exampleAddress + ",Mon-Fri 06:30-18:00\n" +
		"school,999001,email,head@example-primary.example,Mon-Fri 09:00-17:00\n"})
	r := newRig(t, ref, inbox.Retry{})
	// 02:00 on Monday 23 November; the notice is due at 08:30.
	r.clock.Set(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC))
	r.handle(t, requested(t))
	r.dispatch(t)
	if got := r.smtp.To(exampleAddress); len(got) != 0 {
		t.Fatalf("the school's prompt went at 02:00, before its 06:30 hours")
	}
	// The head's hours open at 09:00, after the deadline: that prompt goes
	// at once rather than late.
	if got := r.smtp.To("head@example-primary.example"); len(got) != 1 {
		t.Errorf("prompts to an address whose hours open after the deadline = %d, want 1 at once", len(got))
	}
	r.clock.Set(time.Date(2026, 11, 23, 6, 29, 0, 0, time.UTC))
	r.dispatch(t)
	if got := r.smtp.To(exampleAddress); len(got) != 0 {
		t.Fatalf("the school's prompt went before 06:30")
	}
	r.clock.Set(time.Date(2026, 11, 23, 6, 31, 0, 0, time.UTC))
	r.dispatch(t)
	if got := r.smtp.To(exampleAddress); len(got) != 1 {
		t.Fatalf("prompts to the school at 06:31 = %d, want 1", len(got))
	}
	d := onlyEvent[events.NotificationDeliveredData](t, r, events.NotificationDelivered)
	if len(d.Channels) != 2 {
		t.Errorf("channels = %+v, want both addresses' acceptances", d.Channels)
	}
	ids := map[string]bool{}
	for _, m := range r.smtp.Messages() {
		ids[m.Header("Message-Id")] = true
	}
	if len(ids) != 2 {
		t.Errorf("Message-IDs = %v, want one of its own for each address", ids)
	}
}

func TestUrgentPromptIgnoresTheHours(t *testing.T) {
	ref := referenceWith(t, map[string]string{"contacts.csv": "recipient_kind,recipient_id,channel,address,hours\n" +
		"school,999001,email," + exampleAddress + ",Mon-Fri 06:30-18:00\n"})
	r := newRig(t, ref, inbox.Retry{})
	r.clock.Set(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC))
	r.handle(t, request(t, exampleID, time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)))
	r.dispatch(t)
	if got := r.smtp.To(exampleAddress); len(got) != 1 {
		t.Errorf("prompts for a notice due in 3 hours = %d, want 1 at once", len(got))
	}
}

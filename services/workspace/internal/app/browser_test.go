package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/browsertest"
)

// tab is a headless Chromium tab (browsertest) with the workspace's own
// steps: signing in, and checking what a page says.
type tab struct {
	*browsertest.Tab
	t *testing.T
}

func newTab(t *testing.T) *tab { return &tab{Tab: browsertest.New(t), t: t} }

// text returns the visible text of the page's main content.
func (tb *tab) text() string { return tb.Text("main") }

// wantText checks that the main content says each of want and none of
// unwanted.
func (tb *tab) wantText(want []string, unwanted []string) {
	tb.t.Helper()
	page := tb.text()
	for _, w := range want {
		if !strings.Contains(page, w) {
			tb.t.Errorf("the page does not say %q; it says:\n%s", w, page)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(page, u) {
			tb.t.Errorf("the page shows %q, which it must not", u)
		}
	}
}

// signIn signs in from the start page through the development provider's
// form, as a person following the printed credentials would.
func (tb *tab) signIn(b *bundle, username string) {
	tb.t.Helper()
	u := b.user(username)
	tb.Do("opening the start page", chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)))
	tb.Shot("00-start")
	tb.Do("going to sign in", chromedp.Click(chromedp.CSS(`a[href="/signin"]`)), chromedp.WaitVisible(chromedp.CSS("#password")))
	tb.Do("signing in", chromedp.SetValue(chromedp.CSS("#username"), u.Username),
		chromedp.SendKeys(chromedp.CSS("#password"), u.Password), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
}

func TestBrowserMASHWorkerTriagesANotice(t *testing.T) {
	b := setup(t)
	med, kt := medway(), kent()
	b.deliverAll(med, kt)
	tb := newTab(t)
	tb.signIn(b, "mash-worker.e06000035")

	tb.Do("waiting for the queue", chromedp.WaitVisible(chromedp.CSS(`a[href="/mash/incidents/`+med.incidentID+`"]`)))
	tb.Shot("01-queue")
	tb.wantText([]string{"Triage queue: Medway Council MASH", "KNT-26-700001", "Amy Medwaychild", "Red", "Nobody yet"}, kt.markers)

	tb.Do("opening the incident", chromedp.Click(chromedp.CSS(`a[href="/mash/incidents/`+med.incidentID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/claim"]`)))
	tb.wantText([]string{"Incident KNT-26-700001", "Medway narrative for the MASH only", "Jane Medwayvictim",
		"said she hid upstairs", "Proposed rating: Red", "No earlier incidents", "MARAC in the last 12 months\nNo"}, kt.markers)
	tb.Shot("02-incident")

	tb.Do("claiming", chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/release"]`)))
	tb.wantText([]string{"You are now working this notice", "You are working this notice"}, nil)

	tb.Do("rating amber without a reason", chromedp.Click(chromedp.CSS("#rag-amber")),
		chromedp.Click(chromedp.CSS("#decision-section_47_strategy_discussion")),
		chromedp.Click(chromedp.CSS(`form[action$="/triage"] button`)), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	tb.wantText([]string{"There is a problem", "Give the reason for a rating other than the proposed red"}, nil)
	tb.Shot("03-reason-required")

	tb.Do("giving the reason", chromedp.SendKeys(chromedp.CSS("#field-rag_reason"), "Victim and child now in a refuge."),
		chromedp.Click(chromedp.CSS(`form[action$="/triage"] button`)), chromedp.WaitVisible(chromedp.CSS(".banner-success")))
	tb.wantText([]string{"Your decision is recorded", "Amber", "(proposed Red)", "Victim and child now in a refuge.",
		"Section 47 strategy discussion", "MASH worker, Medway Council MASH"}, nil)
	tb.Shot("04-decided")

	decisions := b.outboxEvents(events.TriageDecided)
	if len(decisions) != 1 {
		t.Fatalf("%d triage events, want 1", len(decisions))
	}
	data := decisions[0]["data"].(map[string]any)
	got := fmt.Sprint(data["rag"], " ", data["default_rag"], " ", data["decision"], " ", data["rag_reason"])
	if want := "amber red section_47_strategy_discussion Victim and child now in a refuge."; got != want {
		t.Errorf("triage event = %q, want %q", got, want)
	}

	tb.Do("back to the queue", chromedp.Navigate(b.url+"/mash"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	tb.wantText([]string{"The queue is empty"}, []string{"KNT-26-700001"})
}

func TestBrowserKeyAdultAcknowledgesANotice(t *testing.T) {
	b := setup(t)
	med, kt := medway(), kent()
	all := b.deliverAll(med, kt)
	n := all[med.la][events.KindSchool]
	tb := newTab(t)
	tb.signIn(b, "key-adult.118234")

	tb.Do("waiting for the inbox", chromedp.WaitVisible(chromedp.CSS(`a[href="/notices/`+n.NotificationID+`"]`)))
	tb.wantText([]string{"Chatham Hill Primary School", "Amy Medwaychild", "New"}, kt.markers)
	tb.Shot("01-inbox")

	tb.Do("opening the notice", chromedp.Click(chromedp.CSS(`a[href="/notices/`+n.NotificationID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/acknowledge"]`)))
	// The school profile in plain words: the pupil, and nothing of the
	// adults, the risk assessment or the narrative.
	notForSchools := append([]string{"Medwayvictim", "Medwayperp", "Medway narrative", "DASH", "9434765919"}, kt.markers...)
	tb.wantText([]string{"What you need to know", "Amy Medwaychild, born 1 May 2019, was present at the incident",
		"They said: “said she hid upstairs”", "Police reference KNT-26-700001", "Do not contact the parents or carers"}, notForSchools)
	tb.Shot("02-notice")

	tb.Do("acknowledging", chromedp.Click(chromedp.CSS(`form[action$="/acknowledge"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".banner-success")))
	tb.wantText([]string{"You acknowledged this notice", "Acknowledged by Key adult (designated safeguarding lead), Chatham Hill Primary School"}, nil)
	tb.Shot("03-acknowledged")

	tb.Do("opening the printable record", chromedp.Click(chromedp.CSS(`a[href$="/record"]`)),
		chromedp.WaitVisible(chromedp.CSS("article.record")))
	tb.wantText([]string{"record for the child's safeguarding file", "Amy Medwaychild", "Chatham Hill Primary School",
		"date of birth plus 25 years"}, notForSchools)
	tb.Shot("04-record")
	pdf, err := chromedp.Run(tb.Ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err != nil {
		t.Fatalf("printing the record: %v", err)
	}
	if err := os.WriteFile(filepath.Join(tb.Dir, "04-record.pdf"), pdf, 0o644); err != nil {
		t.Errorf("saving the printed record: %v", err)
	}

	tb.Do("reading on a phone", chromedp.EmulateViewport(375, 740), chromedp.Navigate(b.url+"/notices/"+n.NotificationID),
		chromedp.WaitVisible(chromedp.CSS("#ack-title")))
	tb.Shot("05-phone")

	if acks := b.outboxEvents(events.NotificationAcknowledged); len(acks) != 1 {
		t.Errorf("%d acknowledgement events, want 1", len(acks))
	}
}

// figure returns the visible text of one element of the page.
func (tb *tab) figure(selector string) string {
	tb.t.Helper()
	return strings.Join(strings.Fields(tb.Text(selector)), " ")
}

func TestBrowserAuditorReadsTheReportAndATimeline(t *testing.T) {
	b := setup(t)
	a, late, breached, october := auditIncidents(t)
	b.recordAudit(a, late, breached, october)
	noNames := []string{"Test Child", "Test Victim", "KNT-TEST"}
	tb := newTab(t)
	tb.signIn(b, "auditor")

	// The clock shows November 2026, so the report opens on November.
	tb.Do("waiting for the report", chromedp.WaitVisible(chromedp.CSS("#total-on-time")))
	tb.wantText([]string{"Timeliness report", "1 November 2026", "30 November 2026", "Deadlines breached"}, noNames)
	figures := map[string]string{"#total-incidents dd": "3", "#total-notices dd": "6", "#total-on-time dd": "66.7% 4 of 6",
		"#total-breaches dd": "2"}
	for sel, want := range figures {
		if got := tb.figure(sel); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	tb.Shot("01-report-november")
	tb.ShotOf("01a-theme-1", "#theme-1")

	tb.Do("choosing October", chromedp.SetValue(chromedp.CSS("#field-from"), "2026-10-01"),
		chromedp.SetValue(chromedp.CSS("#field-to"), "2026-10-31"), chromedp.Click(chromedp.CSS("form.period button")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/audit/export/csv?from=2026-10-01&to=2026-10-31"]`)))
	if got := tb.figure("#total-on-time dd"); got != "100.0% 2 of 2" {
		t.Errorf("October on time shows %q, want %q", got, "100.0% 2 of 2")
	}
	tb.wantText([]string{"1 October 2026", "31 October 2026"}, noNames)
	tb.Shot("02-report-october")

	timeline := `a[href="/audit/incidents/` + breached.ID + `"]`
	tb.Do("going back to November", chromedp.Navigate(b.url+"/audit?"+november), chromedp.WaitVisible(chromedp.CSS(timeline)))
	tb.Do("opening a breached incident's timeline", chromedp.Click(chromedp.CSS(timeline)),
		chromedp.WaitVisible(chromedp.CSS("#steps-title")))
	tb.wantText([]string{"Incident timeline", breached.ID, "Child C-1", "Medway Council MASH", "Chatham Hill Primary School",
		"Met", "Breached", "Deadline breached", "Thu 12 Nov 2026, 09:00"}, noNames)
	tb.Shot("03-timeline")

	tb.Do("reading the report on a phone", chromedp.EmulateViewport(375, 740), chromedp.Navigate(b.url+"/audit?"+november),
		chromedp.WaitVisible(chromedp.CSS("#total-on-time")))
	tb.Shot("04-report-phone")
}

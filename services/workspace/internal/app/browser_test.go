package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lantern-safeguarding/lantern/pkg/events"
)

// chromiumPath finds the browser the tests drive. They never skip: a
// machine without it fails, saying how to install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LANTERN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: run scripts/install-chromium.sh (make test runs it first), " +
		"or set LANTERN_CHROMIUM to a Chromium binary")
	return ""
}

// tab is a headless Chromium tab with a fresh profile, and the folder its
// screenshots go to.
type tab struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func newTab(t *testing.T) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	dir := artefactDir(t)
	t.Logf("screenshots in %s", dir)
	return &tab{t: t, ctx: ctx, dir: dir}
}

// do runs steps with a bound, failing the test with the page's URL if
// one does not finish.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
		tb.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		tb.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// text returns the visible text of the page's main content.
func (tb *tab) text() string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		tb.t.Fatalf("reading the page: %v", err)
	}
	return s
}

// shot keeps a full-page PNG screenshot as a test artefact.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(tb.dir, name+".png"), png, 0o644); err != nil {
		tb.t.Errorf("saving screenshot: %v", err)
	}
}

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
	tb.do("opening the start page", chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)))
	tb.shot("00-start")
	tb.do("going to sign in", chromedp.Click(chromedp.CSS(`a[href="/signin"]`)), chromedp.WaitVisible(chromedp.CSS("#password")))
	tb.do("signing in", chromedp.SetValue(chromedp.CSS("#username"), u.Username),
		chromedp.SendKeys(chromedp.CSS("#password"), u.Password), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
}

func TestBrowserMASHWorkerTriagesANotice(t *testing.T) {
	b := setup(t)
	med, kt := medway(), kent()
	b.deliverAll(med, kt)
	tb := newTab(t)
	tb.signIn(b, "mash-worker.e06000035")

	tb.do("waiting for the queue", chromedp.WaitVisible(chromedp.CSS(`a[href="/mash/incidents/`+med.incidentID+`"]`)))
	tb.shot("01-queue")
	tb.wantText([]string{"Triage queue: Medway Council MASH", "KNT-26-700001", "Amy Medwaychild", "Red", "Nobody yet"}, kt.markers)

	tb.do("opening the incident", chromedp.Click(chromedp.CSS(`a[href="/mash/incidents/`+med.incidentID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/claim"]`)))
	tb.wantText([]string{"Incident KNT-26-700001", "Medway narrative for the MASH only", "Jane Medwayvictim",
		"said she hid upstairs", "Proposed rating: Red", "No earlier incidents", "MARAC in the last 12 months\nNo"}, kt.markers)
	tb.shot("02-incident")

	tb.do("claiming", chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/release"]`)))
	tb.wantText([]string{"You are now working this notice", "You are working this notice"}, nil)

	tb.do("rating amber without a reason", chromedp.Click(chromedp.CSS("#rag-amber")),
		chromedp.Click(chromedp.CSS("#decision-section_47_strategy_discussion")),
		chromedp.Click(chromedp.CSS(`form[action$="/triage"] button`)), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	tb.wantText([]string{"There is a problem", "Give the reason for a rating other than the proposed red"}, nil)
	tb.shot("03-reason-required")

	tb.do("giving the reason", chromedp.SendKeys(chromedp.CSS("#field-rag_reason"), "Victim and child now in a refuge."),
		chromedp.Click(chromedp.CSS(`form[action$="/triage"] button`)), chromedp.WaitVisible(chromedp.CSS(".banner-success")))
	tb.wantText([]string{"Your decision is recorded", "Amber", "(proposed Red)", "Victim and child now in a refuge.",
		"Section 47 strategy discussion", "MASH worker, Medway Council MASH"}, nil)
	tb.shot("04-decided")

	decisions := b.outboxEvents(events.TriageDecided)
	if len(decisions) != 1 {
		t.Fatalf("%d triage events, want 1", len(decisions))
	}
	data := decisions[0]["data"].(map[string]any)
	got := fmt.Sprint(data["rag"], " ", data["default_rag"], " ", data["decision"], " ", data["rag_reason"])
	if want := "amber red section_47_strategy_discussion Victim and child now in a refuge."; got != want {
		t.Errorf("triage event = %q, want %q", got, want)
	}

	tb.do("back to the queue", chromedp.Navigate(b.url+"/mash"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	tb.wantText([]string{"The queue is empty"}, []string{"KNT-26-700001"})
}

func TestBrowserKeyAdultAcknowledgesANotice(t *testing.T) {
	b := setup(t)
	med, kt := medway(), kent()
	all := b.deliverAll(med, kt)
	n := all[med.la][events.KindSchool]
	tb := newTab(t)
	tb.signIn(b, "key-adult.118234")

	tb.do("waiting for the inbox", chromedp.WaitVisible(chromedp.CSS(`a[href="/notices/`+n.NotificationID+`"]`)))
	tb.wantText([]string{"Chatham Hill Primary School", "Amy Medwaychild", "New"}, kt.markers)
	tb.shot("01-inbox")

	tb.do("opening the notice", chromedp.Click(chromedp.CSS(`a[href="/notices/`+n.NotificationID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/acknowledge"]`)))
	// The school profile in plain words: the pupil, and nothing of the
	// adults, the risk assessment or the narrative.
	notForSchools := append([]string{"Medwayvictim", "Medwayperp", "Medway narrative", "DASH", "9434765919"}, kt.markers...)
	tb.wantText([]string{"What you need to know", "Amy Medwaychild, born 1 May 2019, was present at the incident",
		"They said: “said she hid upstairs”", "Police reference KNT-26-700001", "Do not contact the parents or carers"}, notForSchools)
	tb.shot("02-notice")

	tb.do("acknowledging", chromedp.Click(chromedp.CSS(`form[action$="/acknowledge"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".banner-success")))
	tb.wantText([]string{"You acknowledged this notice", "Acknowledged by Key adult (designated safeguarding lead), Chatham Hill Primary School"}, nil)
	tb.shot("03-acknowledged")

	tb.do("opening the printable record", chromedp.Click(chromedp.CSS(`a[href$="/record"]`)),
		chromedp.WaitVisible(chromedp.CSS("article.record")))
	tb.wantText([]string{"record for the child's safeguarding file", "Amy Medwaychild", "Chatham Hill Primary School",
		"date of birth plus 25 years"}, notForSchools)
	tb.shot("04-record")
	pdf, err := chromedp.Run(tb.ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err != nil {
		t.Fatalf("printing the record: %v", err)
	}
	if err := os.WriteFile(filepath.Join(tb.dir, "04-record.pdf"), pdf, 0o644); err != nil {
		t.Errorf("saving the printed record: %v", err)
	}

	tb.do("reading on a phone", chromedp.EmulateViewport(375, 740), chromedp.Navigate(b.url+"/notices/"+n.NotificationID),
		chromedp.WaitVisible(chromedp.CSS("#ack-title")))
	tb.shot("05-phone")

	if acks := b.outboxEvents(events.NotificationAcknowledged); len(acks) != 1 {
		t.Errorf("%d acknowledgement events, want 1", len(acks))
	}
}

// shotOf keeps a PNG screenshot of one element, such as a chart.
func (tb *tab) shotOf(name, selector string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.Screenshot(chromedp.CSS(selector)))
	if err != nil {
		tb.t.Errorf("screenshot of %s: %v", selector, err)
		return
	}
	if err := os.WriteFile(filepath.Join(tb.dir, name+".png"), png, 0o644); err != nil {
		tb.t.Errorf("saving screenshot: %v", err)
	}
}

// figure returns the visible text of one element of the page.
func (tb *tab) figure(selector string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		tb.t.Fatalf("reading %s: %v", selector, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

func TestBrowserAuditorReadsTheReportAndATimeline(t *testing.T) {
	b := setup(t)
	a, late, breached, october := auditIncidents(t)
	b.recordAudit(a, late, breached, october)
	noNames := []string{"Test Child", "Test Victim", "KNT-TEST"}
	tb := newTab(t)
	tb.signIn(b, "auditor")

	// The clock shows November 2026, so the report opens on November.
	tb.do("waiting for the report", chromedp.WaitVisible(chromedp.CSS("#total-on-time")))
	tb.wantText([]string{"Timeliness report", "1 November 2026", "30 November 2026", "Deadlines breached"}, noNames)
	figures := map[string]string{"#total-incidents dd": "3", "#total-notices dd": "6", "#total-on-time dd": "66.7% 4 of 6",
		"#total-breaches dd": "2"}
	for sel, want := range figures {
		if got := tb.figure(sel); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	tb.shot("01-report-november")
	tb.shotOf("01a-theme-1", "#theme-1")

	tb.do("choosing October", chromedp.SetValue(chromedp.CSS("#field-from"), "2026-10-01"),
		chromedp.SetValue(chromedp.CSS("#field-to"), "2026-10-31"), chromedp.Click(chromedp.CSS("form.period button")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/audit/export/csv?from=2026-10-01&to=2026-10-31"]`)))
	if got := tb.figure("#total-on-time dd"); got != "100.0% 2 of 2" {
		t.Errorf("October on time shows %q, want %q", got, "100.0% 2 of 2")
	}
	tb.wantText([]string{"1 October 2026", "31 October 2026"}, noNames)
	tb.shot("02-report-october")

	timeline := `a[href="/audit/incidents/` + breached.ID + `"]`
	tb.do("going back to November", chromedp.Navigate(b.url+"/audit?"+november), chromedp.WaitVisible(chromedp.CSS(timeline)))
	tb.do("opening a breached incident's timeline", chromedp.Click(chromedp.CSS(timeline)),
		chromedp.WaitVisible(chromedp.CSS("#steps-title")))
	tb.wantText([]string{"Incident timeline", breached.ID, "Child C-1", "Medway Council MASH", "Chatham Hill Primary School",
		"Met", "Breached", "Deadline breached", "Thu 12 Nov 2026, 09:00"}, noNames)
	tb.shot("03-timeline")

	tb.do("reading the report on a phone", chromedp.EmulateViewport(375, 740), chromedp.Navigate(b.url+"/audit?"+november),
		chromedp.WaitVisible(chromedp.CSS("#total-on-time")))
	tb.shot("04-report-phone")
}

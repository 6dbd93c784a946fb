package e2e_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lantern-safeguarding/lantern/pkg/calendar"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/browsertest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/smtptest"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// TestBrowserNewUserReadsTheSchoolsPromptAndSeesItsChannel does in a
// browser what a new user of make run does: the README's sample notice is
// posted, the school's prompt is read as the mail server received it, and
// its link is followed into the workspace, where the key adult signs in and
// sees which channel told the school, and when. The mail server is the
// in-process SMTP server of the other end-to-end tests rather than
// Mailpit, which would be built from source on every run; the prompt is
// shown as its HTML part, as a mail program shows it. Screenshots of each
// step are kept under testdata/artifacts.
func TestBrowserNewUserReadsTheSchoolsPromptAndSeesItsChannel(t *testing.T) {
	srv := smtptest.Start(t)
	services := append(slices.Clone(cluster.Pipeline), "workspace")
	p := pipeline{Cluster: cluster.New(t, cluster.Options{Services: services, Env: channelEnv(srv)}), t: t}
	id := p.accept(cluster.SamplePPN(t))
	p.deliveredOnce(id, len(p.decided(id)))
	school := p.schoolNotice(id)
	prompts := srv.To(school.email)
	if len(prompts) != 1 {
		t.Fatalf("%d prompts to the school's address %s, want 1", len(prompts), school.email)
	}
	tb := browsertest.New(t)
	link := p.BaseURL + "/notices/" + school.id
	readPrompt(t, tb, prompts[0], link, school.due)
	p.assertWorkspaceShowsTheChannels([]notice{school})
	keyAdult := sampleUserNamed(t, p.Cluster, "key-adult.118234")
	tb.Do("following the prompt's link", chromedp.Click(chromedp.CSS(`a[href="`+link+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#password")))
	tb.Shot("02-sign-in")
	tb.Do("signing in as the key adult", chromedp.SetValue(chromedp.CSS("#username"), keyAdult.Username),
		chromedp.SendKeys(chromedp.CSS("#password"), keyAdult.Password), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("ul.channels")))
	tb.Shot("03-notice")
	tb.ShotOf("04-channels", `section[aria-labelledby="why-title"]`)
	if loc, err := chromedp.Run(tb.Ctx, chromedp.Location()); err != nil || loc != link {
		t.Errorf("signing in led to %q (%v), want the prompt's link %s", loc, err, link)
	}
	told := p.acceptedAt(school.id, "email").In(calendar.London).Format("Mon 2 Jan 2006, 15:04")
	if got, want := strings.TrimSpace(tb.Text("ul.channels")), "E-mail at "+told; got != want {
		t.Errorf("the notice's channel list says %q, want %q", got, want)
	}
	if page := tb.Text("main"); !strings.Contains(page, "Told by") {
		t.Errorf("the notice page does not say who told the school; it says:\n%s", page)
	}
}

// readPrompt opens the prompt's HTML part in the tab, served as a mail
// program's view of it, keeps a screenshot, and checks that it links to
// the notice, gives the deadline and holds none of the notice's personal
// data.
func readPrompt(t *testing.T, tb *browsertest.Tab, m smtptest.Message, link string, due time.Time) {
	t.Helper()
	_, html := m.Bodies(t)
	view := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(html))
	}))
	t.Cleanup(view.Close)
	tb.Do("opening the school's prompt", chromedp.Navigate(view.URL+"/messages/"+url.PathEscape(m.Header("Message-Id"))),
		chromedp.WaitVisible(chromedp.CSS(`a[href="`+link+`"]`)))
	tb.Shot("01-prompt")
	page := tb.Text("body")
	deadline := due.In(calendar.London).Format("15:04 on Monday 2 January 2006") + " (UK time)"
	for _, want := range []string{"Open the notice in Lantern", deadline} {
		if !strings.Contains(page, want) {
			t.Errorf("the prompt does not say %q; it says:\n%s", want, page)
		}
	}
	for _, s := range samplePersonal {
		if strings.Contains(page, s) || strings.Contains(html, s) {
			t.Errorf("the prompt shows personal data %q", s)
		}
	}
}

// acceptedAt is when the channel accepted the notice, as delivery
// recorded it.
func (p pipeline) acceptedAt(notificationID, channel string) time.Time {
	p.t.Helper()
	var at time.Time
	if err := p.Pool.QueryRow(p.t.Context(), `SELECT accepted_at FROM delivery.channel_attempt
		WHERE notification_id = $1 AND channel = $2 AND state = 'accepted'`, notificationID, channel).Scan(&at); err != nil {
		p.t.Fatalf("the %s channel's acceptance of %s: %v", channel, notificationID, err)
	}
	return at
}

func sampleUserNamed(t *testing.T, c *cluster.Cluster, username string) sampleUser {
	t.Helper()
	return sampleUserWhere(t, c, "is named "+username, func(u sampleUser) bool { return u.Username == username })
}

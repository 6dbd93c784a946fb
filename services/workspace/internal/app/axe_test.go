package app_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeFile is axe-core as the npm registry ships it; scripts/install-npm-packages.sh
// installs the version pinned in scripts/npm/package-lock.json.
var axeFile = filepath.Join("..", "..", "..", "..", "scripts", "npm", "node_modules", "axe-core", "axe.min.js")

// axeTags are the rule sets every page must pass: WCAG 2.0, 2.1 and 2.2 at
// levels A and AA, and axe-core's best practices.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

func axeSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(axeFile)
	if err != nil {
		t.Fatalf("axe-core is not installed: run scripts/install-npm-packages.sh (make test runs it first): %v", err)
	}
	return string(src)
}

// axeViolation is one rule a page breaks, with where.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// checkAxe runs axe-core on the page the tab shows and fails the test for
// every violation, naming the page, the rule and the elements.
func (tb *tab) checkAxe(source, page string) {
	tb.t.Helper()
	script := `axe.run(document, {runOnly: {type: 'tag', values: ` + jsList(axeTags) + `}, resultTypes: ['violations']})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary}))})))`
	if _, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[chromedp.Void](source)); err != nil {
		tb.t.Fatalf("injecting axe-core into %s: %v", page, err)
	}
	violations, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[[]axeViolation](script, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("running axe-core on %s: %v", page, err)
	}
	for _, v := range violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprintf("%v: %s", n.Target, strings.Join(strings.Fields(n.Summary), " ")))
		}
		tb.t.Errorf("%s: axe-core %s (%s): %s\n  %s", page, v.ID, v.Impact, v.Help, strings.Join(where, "\n  "))
	}
}

func jsList(words []string) string {
	return "['" + strings.Join(words, "', '") + "']"
}

// crawl visits every page reachable by links from start, on this site, up
// to limit pages, and runs axe-core on each. Downloads and sign-out are
// left alone.
func (tb *tab) crawl(source, base, start string, limit int) []string {
	tb.t.Helper()
	queue, seen := []string{start}, map[string]bool{start: true}
	var visited []string
	for len(queue) > 0 && len(visited) < limit {
		page := queue[0]
		queue = queue[1:]
		tb.Do("opening "+page, chromedp.Navigate(base+page), chromedp.WaitReady(chromedp.CSS("body")))
		tb.checkAxe(source, page)
		visited = append(visited, page)
		links, err := chromedp.Run(tb.Ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))`))
		if err != nil {
			tb.t.Fatalf("reading the links of %s: %v", page, err)
		}
		for _, l := range links {
			if next, ok := sameSite(l); ok && !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	return visited
}

// sameSite returns a link's path and query if it is a page of the
// workspace worth checking.
func sameSite(href string) (string, bool) {
	u, err := url.Parse(href)
	if err != nil || u.IsAbs() || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	for _, skip := range []string{"/audit/export/", "/static/", "/dev-idp/"} {
		if strings.HasPrefix(u.Path, skip) {
			return "", false
		}
	}
	u.Fragment = ""
	return u.RequestURI(), true
}

// TestBrowserEveryPagePassesAxeForEveryRole signs in as one sample user of
// each role and checks every page that user can reach by following links,
// and the pages seen before signing in, with axe-core's WCAG 2.2 AA and
// best-practice rules. Any violation fails.
func TestBrowserEveryPagePassesAxeForEveryRole(t *testing.T) {
	b := setup(t)
	b.deliverAll(medway(), kent())
	a, late, breached, october := auditIncidents(t)
	b.recordAudit(a, late, breached, october)
	source := axeSource(t)

	t.Run("signed out", func(t *testing.T) {
		tb := newTab(t)
		pages := []string{"/", "/no-such-page"}
		for _, page := range pages {
			tb.Do("opening "+page, chromedp.Navigate(b.url+page), chromedp.WaitReady(chromedp.CSS("body")))
			tb.checkAxe(source, page)
		}
		tb.Do("going to sign in", chromedp.Navigate(b.url+"/signin"), chromedp.WaitVisible(chromedp.CSS("#password")))
		tb.checkAxe(source, "the sign-in form")
	})
	// One user of each role, of an organisation the fixtures send notices
	// to, so that the crawl reaches notice pages too.
	preferred := []string{"key-adult.118234", "health-visiting.e06000035"}
	roles := map[string]string{}
	for _, u := range b.users.Users {
		if _, ok := roles[u.Role]; !ok || strings.HasSuffix(u.Username, ".e06000035") || slices.Contains(preferred, u.Username) {
			if !slices.Contains(preferred, roles[u.Role]) {
				roles[u.Role] = u.Username
			}
		}
	}
	names := make([]string, 0, len(roles))
	for role := range roles {
		names = append(names, role)
	}
	slices.Sort(names)
	for _, role := range names {
		t.Run(role, func(t *testing.T) {
			tb := newTab(t)
			tb.signIn(b, roles[role])
			start := time.Now()
			visited := tb.crawl(source, b.url, "/", 40)
			t.Logf("%s (%s): %d pages in %s: %s", role, roles[role], len(visited), time.Since(start).Round(time.Millisecond),
				strings.Join(visited, " "))
			if len(visited) < 2 {
				t.Errorf("only %v reached: the crawl found no links", visited)
			}
		})
	}
}

// Package browsertest drives a real headless Chromium for the tests that
// use Lantern as a person would: it opens pages, reads what they show and
// keeps a PNG of each step as a test artifact, under the test package's
// testdata/artifacts (ignored by git) or LANTERN_TEST_ARTIFACTS when set,
// one folder per test.
//
// A machine without Chromium fails the test, saying how to install it:
// a browser test that skips would pass without looking at anything.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one step, so that a page that never shows what the
// test waits for fails the test with a screenshot instead of hanging it.
const stepTimeout = 20 * time.Second

// ChromiumPath finds the browser: LANTERN_CHROMIUM, or chromium on the
// PATH as scripts/install-chromium.sh installs it.
func ChromiumPath(t testing.TB) string {
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

// ArtifactDir is the folder the test's screenshots go to, made if need be.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("LANTERN_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("creating the artifact folder: %v", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Tab is a headless Chromium tab with a fresh profile, closed when the
// test ends.
type Tab struct {
	t testing.TB
	// Ctx runs chromedp actions in the tab.
	Ctx context.Context
	// Dir is where the tab's screenshots are kept.
	Dir string
}

// New starts Chromium and opens a tab in it.
func New(t testing.TB) *Tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	dir := ArtifactDir(t)
	t.Logf("screenshots in %s", dir)
	return &Tab{t: t, Ctx: ctx, Dir: dir}
}

// Do runs steps within stepTimeout; if one fails, the page is kept as
// failed-<what>.png and the test fails with the page's address.
func (tb *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(tb.Ctx, chromedp.Location())
		tb.Shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		tb.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// Text is the visible text of the first element selector matches.
func (tb *Tab) Text(selector string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		tb.t.Fatalf("reading %s: %v", selector, err)
	}
	return s
}

// Shot keeps a full-page screenshot as <name>.png.
func (tb *Tab) Shot(name string) {
	tb.t.Helper()
	tb.keep(name, chromedp.FullScreenshot(100))
}

// ShotOf keeps a screenshot of the first element selector matches.
func (tb *Tab) ShotOf(name, selector string) {
	tb.t.Helper()
	tb.keep(name, chromedp.Screenshot(chromedp.CSS(selector)))
}

func (tb *Tab) keep(name string, shot chromedp.Action[[]byte]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.Ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(tb.Dir, name+".png"), png, 0o644); err != nil {
		tb.t.Errorf("saving screenshot %s: %v", name, err)
	}
}

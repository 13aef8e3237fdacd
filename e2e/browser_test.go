package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium (make test installs it).
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium with a fresh profile and returns a
// chromedp context for one tab; it is closed when the test ends. A missing
// Chromium fails the test: a browser test must never pass by not running.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is missing at %s (make test installs it: apt-get install chromium)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first run starts the browser; it must not carry a timeout (the
	// timeout would end the browser), so only later actions get one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium at %s: %v", chromiumPath, err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return tctx
}

// byLabel is an XPath for the form control labelled text: a label with for=,
// or a label wrapping its control (tests find controls by accessible name).
func byLabel(text string) string {
	return `//input[@id=//label[normalize-space(.)="` + text + `"]/@for] | //label[normalize-space(.)="` + text + `"]//input`
}

// byButton is an XPath for a button (or submit input) named text.
func byButton(text string) string {
	return `//button[normalize-space(.)="` + text + `"] | //input[@type="submit" and @value="` + text + `"]`
}

// waitPath polls until the page's location path is path (navigation after a
// form post); it fails the test after 20 seconds.
func waitPath(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		p, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.pathname"))
		if err == nil && p == path {
			return
		}
		got = p
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the browser is at %q, want %q", got, path)
}

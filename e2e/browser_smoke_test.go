package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserErrorPage: a browser asking for a page that does not exist gets
// the HTML error page (not problem+json), styled by the same-origin
// stylesheet under the strict CSP, in real Chromium.
func TestBrowserErrorPage(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	ctx := newBrowser(t)

	var title, text string
	var styled bool
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/no-such-page"),
		chromedp.WaitVisible(chromedp.CSS("body")),
	)
	if err != nil {
		t.Fatalf("navigate: %v", err)
	}
	if title, err = chromedp.Run(ctx, chromedp.Title()); err != nil {
		t.Fatalf("title: %v", err)
	}
	if text, err = chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText")); err != nil {
		t.Fatalf("body text: %v", err)
	}
	// Every stylesheet link loaded (a CSP block leaves sheet null).
	if styled, err = chromedp.Run(ctx, chromedp.Evaluate[bool](
		`[...document.querySelectorAll('link[rel=stylesheet]')].every(l => l.sheet !== null)`)); err != nil {
		t.Fatalf("stylesheets: %v", err)
	}
	if !strings.Contains(title, "Not Found") || !strings.Contains(text, "Not Found") {
		t.Errorf("error page title %q, text %q; want Not Found", title, text)
	}
	if !styled {
		t.Error("a stylesheet of the error page did not load (CSP or path)")
	}

	// The same URL asked for JSON is a problem.
	req, _ := http.NewRequest("GET", srv.URL+"/no-such-page", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := readResponse(t, "GET", req.URL.String(), resp)
	assertProblem(t, r, http.StatusNotFound)
	assertSecurityHeaders(t, r.Header)
}

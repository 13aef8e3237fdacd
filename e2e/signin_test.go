package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSignInWithCLIPassword: a user made by `users create --password-stdin`
// signs in at /login in Chromium with exactly that password (the trailing
// newline is not part of it) and reaches /account.
func TestSignInWithCLIPassword(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	const password = "a long passphrase for grace"
	createUser(t, srv, "grace@example.com", password)
	ctx := newBrowser(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/account")); err != nil {
		t.Fatal(err)
	}
	waitPath(t, ctx, "/login")
	err := chromedp.Do(ctx,
		chromedp.SendKeys(byLabel("Email or username"), "grace@example.com"),
		chromedp.SendKeys(byLabel("Password"), password),
		chromedp.Click(byButton("Sign in")),
	)
	if err != nil {
		t.Fatalf("fill the sign-in form: %v", err)
	}
	waitPath(t, ctx, "/account")
	// The URL changes before the new document has rendered; read the page
	// until it shows the user or the deadline passes.
	var text string
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		text, err = chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		if err == nil && strings.Contains(text, "grace@example.com") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/account does not show the signed-in user (last error %v):\n%s", err, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAccountSelfService is /account's password and API keys in Chromium
// (CONTRACT "Browser pages"): "Change password" refuses a wrong current
// password and changes nothing, then changes it (the new one signs in, the
// old one no longer does); "Create API key" shows the secret once, the key
// works on the API, and after "Revoke" it answers 401.
func TestAccountSelfService(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	oldPassword := "old passphrase " + randomHex(4)
	newPassword := "new passphrase " + randomHex(4)
	id := createUser(t, srv, "carol@example.com", oldPassword)
	ctx := newBrowser(t)

	browserNavigate(t, ctx, srv.URL+"/login?return_to=/account")
	browserSignIn(t, ctx, "carol@example.com", oldPassword)
	waitPath(t, ctx, "/account")

	// A wrong current password: a readable error, nothing changed.
	browserFill(t, ctx, "Current password", "not my password")
	browserFill(t, ctx, "New password", newPassword)
	browserClick(t, ctx, "Change password")
	browserWaitText(t, ctx, "The current password is not right.")

	// The right one (the old password still works): changed, and this
	// browser stays signed in.
	browserNavigate(t, ctx, srv.URL+"/account")
	browserFill(t, ctx, "Current password", oldPassword)
	browserFill(t, ctx, "New password", newPassword)
	browserClick(t, ctx, "Change password")
	browserWaitText(t, ctx, "Your password was changed.")
	waitPath(t, ctx, "/account")

	// Sign out; the old password is refused, the new one signs in.
	browserClick(t, ctx, "Sign out")
	waitPath(t, ctx, "/logout")
	browserNavigate(t, ctx, srv.URL+"/login?return_to=/account")
	browserSignIn(t, ctx, "carol@example.com", oldPassword)
	browserWaitText(t, ctx, "Incorrect email/username or password.")
	browserNavigate(t, ctx, srv.URL+"/login?return_to=/account")
	browserSignIn(t, ctx, "carol@example.com", newPassword)
	waitPath(t, ctx, "/account")

	// Create an API key: its secret is shown once.
	browserFill(t, ctx, "Key name", "deploy script")
	browserClick(t, ctx, "Create API key")
	browserWaitText(t, ctx, "it will not be shown again")
	secret, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-secret]').value`))
	if err != nil || !strings.HasPrefix(secret, "gh_") {
		t.Fatalf("the secret on the page: %q, %v\n%s", secret, err, pageState(ctx))
	}
	if got := apiGetStatus(t, srv.URL+"/api/v1/users/"+id, secret); got != http.StatusOK {
		t.Fatalf("GET own user with the new key: %d, want 200", got)
	}
	browserNavigate(t, ctx, srv.URL+"/account")
	text := browserText(t, ctx)
	if strings.Contains(text, secret) || !strings.Contains(text, "deploy script") || !strings.Contains(text, secret[:19]) {
		t.Fatalf("the list after a reload (the secret must be gone, the name and prefix shown):\n%s", text)
	}

	// Revoke it (a confirmation step first): the key answers 401.
	browserDo(t, ctx, "open Revoke", chromedp.Click(`//summary[normalize-space(.)="Revoke"]`))
	browserClick(t, ctx, "Revoke")
	browserWaitText(t, ctx, "The API key was revoked.")
	if got := apiGetStatus(t, srv.URL+"/api/v1/users/"+id, secret); got != http.StatusUnauthorized {
		t.Fatalf("GET with the revoked key: %d, want 401", got)
	}
}

// apiGetStatus is the status of a GET with a bearer credential.
func apiGetStatus(t *testing.T, url, bearer string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAccountCreateKeyAsksConfirmItsYou: creating an API key is a sensitive
// action; with a sign-in older than GATEHOUSE_REAUTH_MAX_AGE, "Create API
// key" shows "Confirm it's you" (password), then creates the key, once.
func TestAccountCreateKeyAsksConfirmItsYou(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{Env: []string{"GATEHOUSE_REAUTH_MAX_AGE=2s"}})
	password := "dan's passphrase " + randomHex(4)
	createUser(t, srv, "dan@example.com", password)
	ctx := newBrowser(t)
	browserNavigate(t, ctx, srv.URL+"/login?return_to=/account")
	browserSignIn(t, ctx, "dan@example.com", password)
	waitPath(t, ctx, "/account")

	time.Sleep(2500 * time.Millisecond) // the sign-in is now too old
	browserNavigate(t, ctx, srv.URL+"/account")
	browserFill(t, ctx, "Key name", "late key")
	browserClick(t, ctx, "Create API key")
	browserDo(t, ctx, "the Confirm it's you page", chromedp.WaitVisible(`//h1[normalize-space(.)="Confirm it's you"]`))
	browserFill(t, ctx, "Password", password)
	browserClick(t, ctx, "Confirm")
	browserWaitText(t, ctx, "it will not be shown again")
	browserNavigate(t, ctx, srv.URL+"/account")
	if n := strings.Count(browserText(t, ctx), "late key"); n != 1 {
		t.Fatalf("the key is listed %d times, want once:\n%s", n, pageState(ctx))
	}
}

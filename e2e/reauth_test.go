package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSensitiveActionAsksConfirmItsYou: a browser session older than
// GATEHOUSE_REAUTH_MAX_AGE that asks for a sensitive action (adding a
// passkey) is shown "Confirm it's you" (a script's call gets a 401 problem
// saying re-authentication is required); a wrong password changes nothing;
// the right one carries the original action out.
func TestSensitiveActionAsksConfirmItsYou(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{Env: []string{"GATEHOUSE_REAUTH_MAX_AGE=2s"}})
	createUser(t, srv, "rita@example.com", "rita's passphrase")
	ua := newUserAgent(t, srv)
	login := ua.get(srv.URL + "/login?return_to=/account")
	ua.submit(login, findForm(t, login.Body, "password"), url.Values{"username": {"rita@example.com"}, "password": {"rita's passphrase"}})
	account := ua.get(srv.URL + "/account")
	if account.Status != http.StatusOK || account.Final.Path != "/account" {
		t.Fatalf("not signed in: %d at %s", account.Status, account.Final)
	}
	csrf := findForm(t, account.Body, "csrf_token").Fields.Get("csrf_token")
	begin := srv.URL + "/account/passkeys/register/begin"

	// Fresh after sign-in: the action runs.
	if r := ua.post(begin, url.Values{"csrf_token": {csrf}}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"handle"`) {
		t.Fatalf("fresh session: %d %.300s", r.Status, r.Body)
	}
	time.Sleep(2500 * time.Millisecond)

	// Stale: a navigation gets the page, a script's fetch the problem.
	page := ua.post(begin, url.Values{"csrf_token": {csrf}})
	if page.Status != http.StatusUnauthorized || !strings.Contains(string(page.Body), "Confirm it") || !strings.Contains(string(page.Body), `name="reauth_password"`) {
		t.Fatalf("stale session: %d, want the Confirm it's you page\n%.600s", page.Status, page.Body)
	}
	req, _ := http.NewRequest(http.MethodPost, begin, strings.NewReader(url.Values{"csrf_token": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := ua.do(req); r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "reauthentication-required") {
		t.Fatalf("stale fetch: %d, want a reauthentication problem\n%.300s", r.Status, r.Body)
	}

	// The page's form posts the action back with the password.
	form := findForm(t, page.Body, "reauth_password")
	if wrong := ua.submit(page, form, url.Values{"reauth_password": {"not it"}}); wrong.Status != http.StatusUnauthorized ||
		!strings.Contains(string(wrong.Body), "not right") {
		t.Fatalf("wrong password: %d\n%.400s", wrong.Status, wrong.Body)
	}
	done := ua.submit(page, form, url.Values{"reauth_password": {"rita's passphrase"}})
	if done.Status != http.StatusOK || !strings.Contains(string(done.Body), `"handle"`) {
		t.Fatalf("after Confirm: %d, want the action's answer\n%.400s", done.Status, done.Body)
	}
	// And the session is fresh again.
	if r := ua.post(begin, url.Values{"csrf_token": {csrf}}); r.Status != http.StatusOK {
		t.Fatalf("after re-authentication: %d", r.Status)
	}
}

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLogoutPageLinksNoUnvalidatedURI: /logout is reached without a valid
// id_token_hint, so its post_logout_redirect_uri was validated by nobody
// (anyone can craft the link). Neither the "Sign out" page, nor the page
// after signing out, nor the page for a browser without a session shows
// that URI as a link, a form value or text (CONTRACT: "No Gatehouse page
// links or redirects to a URI that was not registered for a client").
func TestLogoutPageLinksNoUnvalidatedURI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	password := "pw-" + randomHex(8)
	createUser(t, srv, "mia@example.com", password)
	evil := "https://evil-" + randomHex(4) + ".example/phish"
	logoutURL := srv.URL + "/logout?" + url.Values{"post_logout_redirect_uri": {evil}}.Encode()
	host := strings.TrimPrefix(strings.Split(evil, "/phish")[0], "https://")

	check := func(what string, r *uaResponse) {
		t.Helper()
		if r.Status >= 300 && r.Status < 400 {
			if loc := r.Header.Get("Location"); strings.Contains(loc, host) {
				t.Errorf("%s redirects to the unregistered %s", what, loc)
			}
		}
		if strings.Contains(string(r.Body), host) {
			t.Errorf("%s shows the unregistered post_logout_redirect_uri %s:\n%.1500s", what, evil, r.Body)
		}
	}

	// No session.
	check("/logout without a session", newUserAgent(t, srv).get(logoutURL))

	// Signed in: the confirmation page, then the page after "Sign out".
	ua := newUserAgent(t, srv)
	if st := formSignIn(t, ua, srv, "mia@example.com", password); st != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", st)
	}
	page := ua.get(logoutURL)
	if page.Status != http.StatusOK {
		t.Fatalf("GET /logout: %d", page.Status)
	}
	check("the Sign out page", page)
	done := ua.submit(page, findForm(t, page.Body, "csrf_token"), nil)
	if done.Status != http.StatusOK {
		t.Fatalf("POST /logout: %d\n%.800s", done.Status, done.Body)
	}
	check("the page after Sign out", done)
	// A forged form post carrying the URI does not get it shown either.
	ua2 := newUserAgent(t, srv)
	if st := formSignIn(t, ua2, srv, "mia@example.com", password); st != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", st)
	}
	page = ua2.get(srv.URL + "/logout")
	check("the page after a Sign out post naming the URI",
		ua2.submit(page, findForm(t, page.Body, "csrf_token"), url.Values{"post_logout_redirect_uri": {evil}}))
}

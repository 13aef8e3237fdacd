package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestAuthRequestBelongsToItsBrowser is the regression test for the
// critical finding of the security review: an authorization request could
// be completed by another browser. An attacker starts /authorize, sends the
// sign-in link to a signed-in victim, then calls /authorize/callback?id=…
// and collects a code for the victim with the attacker's own state and PKCE
// verifier. Now (CONTRACT "An authorization request belongs to the browser
// that started it"):
//   - the link opened in the victim's browser does not complete the request;
//   - the callback hands no code to a browser that did not start the
//     request, nor to one without cookies;
//   - a request yields at most one code, even to its own browser.
func TestAuthRequestBelongsToItsBrowser(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	createUser(t, srv, "victim@example.com", "victim's passphrase")
	p := newProvider(t, srv)
	cfg := oauthConfig(p, client, oidc.ScopeOpenID)
	callback := srv.URL + "/authorize/callback?id="

	// The victim has a session (signed in to the app earlier).
	victim := newUserAgent(t, srv)
	own := newAuthRequest(cfg)
	codeFrom(t, victim.signIn(own.URL, "victim@example.com", "victim's passphrase").Query(), own.State)

	// The attacker starts an authorization request and reads the link.
	attacker := newUserAgent(t, srv)
	evil := newAuthRequest(cfg)
	page := attacker.get(evil.URL)
	if page.Status != http.StatusOK || page.Final.Path != "/login" {
		t.Fatalf("authorization request: %d at %s, want the /login page", page.Status, page.Final)
	}
	link := page.Final.String()
	id := page.Final.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("no authRequestID in %s", link)
	}

	// The victim opens the link: no code may reach the app.
	res := victim.get(link)
	assertNoCode(t, "victim opens the attacker's link", res)
	if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "another browser") {
		t.Fatalf("victim opens the attacker's link: %d, want 400 saying it was started in another browser\n%.600s", res.Status, res.Body)
	}
	// Neither the attacker's browser nor a cookie-less client gets a code.
	assertNoCode(t, "attacker calls the callback", attacker.get(callback+url.QueryEscape(id)))
	assertNoCode(t, "cookie-less client calls the callback", newUserAgent(t, srv).get(callback+url.QueryEscape(id)))

	// A request completed by its own browser yields one code, once.
	ua := newUserAgent(t, srv)
	ar := newAuthRequest(cfg)
	login := ua.get(ar.URL)
	ownID := login.Final.Query().Get("authRequestID")
	f := findForm(t, login.Body, "password")
	done := ua.submit(login, f, url.Values{"username": {"victim@example.com"}, "password": {"victim's passphrase"}})
	codeFrom(t, done.Location(t).Query(), ar.State)
	assertNoCode(t, "second callback for a completed request", ua.get(callback+url.QueryEscape(ownID)))
}

// assertNoCode fails when the response sends the browser to the app with a
// code.
func assertNoCode(t *testing.T, what string, r *uaResponse) {
	t.Helper()
	if r.Status >= 300 && r.Status < 400 {
		if loc, err := r.Final.Parse(r.Header.Get("Location")); err == nil && loc.Query().Get("code") != "" {
			t.Fatalf("%s: a code was issued (%s)", what, loc)
		}
	}
	if r.Status >= 500 {
		t.Fatalf("%s: %d, want a clear 4xx page\n%.600s", what, r.Status, r.Body)
	}
}

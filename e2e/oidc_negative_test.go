package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestOIDCRejectsBadRequests: the authorization and token endpoints refuse
// what RFC 6749, RFC 7636 and OpenID Connect Core tell them to refuse, and
// never redirect to an unregistered URI.
func TestOIDCRejectsBadRequests(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	password := "pw-" + randomHex(8)
	createUser(t, srv, "frank@example.com", password)
	p := newProvider(t, srv)
	tokenURL, introURL, _ := endpoints(t, p)

	// expectErrorPage: the user agent shows an error page of Gatehouse and
	// is not sent anywhere else (RFC 6749 §4.1.2.1, §10.15: an invalid
	// redirect_uri or client_id must not redirect).
	expectErrorPage := func(t *testing.T, what, authURL string) {
		t.Helper()
		// A client that follows nothing: not a redirect off Gatehouse.
		direct := get(t, authURL)
		if loc := direct.Header.Get("Location"); direct.Status >= 300 && direct.Status < 400 && strings.HasPrefix(loc, cb.URL) {
			t.Errorf("%s: /authorize redirected to the app's host: %d %s", what, direct.Status, loc)
		}
		// A user agent following Gatehouse's own redirects ends on an error page.
		res := newUserAgent(t, srv).get(authURL)
		if res.Status >= 300 && res.Status < 400 {
			t.Errorf("%s: the user was redirected to %s, want an error page", what, res.Header.Get("Location"))
		} else if res.Status < 400 || res.Status > 499 {
			t.Errorf("%s: the user got status %d at %s, want a 4xx error page\n%.600s", what, res.Status, res.Final, res.Body)
		} else if !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d with Content-Type %q, want an HTML error page for a browser (Accept: text/html)\n%.400s", what, res.Status, res.Header.Get("Content-Type"), res.Body)
		}
		cb.noHit(t)
	}

	t.Run("wrong redirect_uri", func(t *testing.T) {
		evil := client
		evil.RedirectURI = cb.URL + "/evil"
		expectErrorPage(t, "unregistered redirect_uri", newAuthRequest(oauthConfig(p, evil, oidc.ScopeOpenID)).URL)
		other := client
		other.RedirectURI = "http://attacker.example/callback"
		expectErrorPage(t, "foreign redirect_uri", newAuthRequest(oauthConfig(p, other, oidc.ScopeOpenID)).URL)
	})

	t.Run("unknown client_id", func(t *testing.T) {
		unknown := client
		unknown.ID = "no-such-client"
		expectErrorPage(t, "unknown client_id", newAuthRequest(oauthConfig(p, unknown, oidc.ScopeOpenID)).URL)
	})

	t.Run("wrong code_verifier", func(t *testing.T) {
		cfg := oauthConfig(p, client, oidc.ScopeOpenID)
		ar := newAuthRequest(cfg)
		code := codeFrom(t, newUserAgent(t, srv).signIn(ar.URL, "frank@example.com", password).Query(), ar.State)
		r := postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {client.RedirectURI}, "code_verifier": {oauth2.GenerateVerifier()}}, client.ID, client.Secret)
		expectOAuthError(t, r, http.StatusBadRequest, "invalid_grant") // RFC 7636 §4.6
		// Nor without a verifier at all.
		r = postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {client.RedirectURI}}, client.ID, client.Secret)
		if r.Status != http.StatusBadRequest {
			t.Errorf("code exchange without the verifier answered %d, want 400\n%s", r.Status, r.Body)
		}
	})

	t.Run("code reuse", func(t *testing.T) {
		cfg := oauthConfig(p, client, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
		ar := newAuthRequest(cfg)
		code := codeFrom(t, newUserAgent(t, srv).signIn(ar.URL, "frank@example.com", password).Query(), ar.State)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {client.RedirectURI}, "code_verifier": {ar.Verifier}}
		var first tokenResponse
		postForm(t, tokenURL, form, client.ID, client.Secret).expect(t, http.StatusOK).decode(t, &first)
		if !isActive(introspect(t, introURL, client, first.AccessToken)) {
			t.Fatalf("the access token from the code is not active before the reuse")
		}
		expectOAuthError(t, postForm(t, tokenURL, form, client.ID, client.Secret), http.StatusBadRequest, "invalid_grant")
		if m := introspect(t, introURL, client, first.AccessToken); isActive(m) {
			t.Errorf("after the code was redeemed twice its access token is still active: %v (CONTRACT; RFC 6749 §4.1.2)", m)
		}
		if first.RefreshToken != "" {
			expectOAuthError(t, refresh(t, tokenURL, client, first.RefreshToken), http.StatusBadRequest, "invalid_grant")
		}
	})

	t.Run("prompt=none without a session", func(t *testing.T) {
		cfg := oauthConfig(p, client, oidc.ScopeOpenID)
		ar := newAuthRequest(cfg, oauth2.SetAuthURLParam("prompt", "none"))
		res := newUserAgent(t, srv).get(ar.URL)
		loc := res.Location(t)
		if !strings.HasPrefix(loc.String(), client.RedirectURI) {
			t.Fatalf("prompt=none redirected to %s, want the app's %s", loc, client.RedirectURI)
		}
		q := loc.Query()
		if q.Get("error") != "login_required" || q.Get("state") != ar.State {
			t.Errorf("prompt=none without a session: %v, want error=login_required with the state (OIDC Core §3.1.2.6)", q)
		}
	})

	t.Run("prompt=login forces the form", func(t *testing.T) {
		ua := newUserAgent(t, srv)
		cfg := oauthConfig(p, client, oidc.ScopeOpenID)
		ar := newAuthRequest(cfg)
		codeFrom(t, ua.signIn(ar.URL, "frank@example.com", password).Query(), ar.State)
		// The session now exists: a plain request goes straight back...
		ar = newAuthRequest(cfg)
		res := ua.get(ar.URL)
		codeFrom(t, res.Location(t).Query(), ar.State)
		// ...but prompt=login and max_age=0 ask again.
		for _, opt := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0")} {
			ar = newAuthRequest(cfg, opt)
			res = ua.get(ar.URL)
			if res.Status != http.StatusOK || res.Final.Path != "/login" {
				t.Errorf("%s with a session ended at %s (%d), want the /login form (CONTRACT)", ar.URL, res.Final, res.Status)
				continue
			}
			f := findForm(t, res.Body, "password")
			codeFrom(t, ua.submit(res, f, url.Values{"username": {"frank@example.com"}, "password": {password}}).Location(t).Query(), ar.State)
		}
	})

	t.Run("sign-in post without csrf_token", func(t *testing.T) {
		ua := newUserAgent(t, srv)
		page := ua.get(newAuthRequest(oauthConfig(p, client, oidc.ScopeOpenID)).URL)
		if page.Final.Path != "/login" {
			t.Fatalf("authorization request ended at %s, want /login", page.Final)
		}
		f := findForm(t, page.Body, "password")
		if f.Fields.Get("csrf_token") == "" {
			t.Fatalf("the sign-in form has no csrf_token (CONTRACT: every form)")
		}
		f.Fields.Del("csrf_token")
		res := ua.submit(page, f, url.Values{"username": {"frank@example.com"}, "password": {password}})
		if res.Status < 400 {
			t.Errorf("a sign-in post without its csrf_token answered %d (Location %q), want it refused (CONTRACT: every form is protected against cross-site posts)", res.Status, res.Header.Get("Location"))
		}
		cb.noHit(t)
	})

	t.Run("public client without PKCE", func(t *testing.T) {
		pub := createOIDCClient(t, srv, "--name", "spa", "--redirect-uri", cb.URL+"/spa", "--public", "--first-party")
		if pub.Secret != "" {
			t.Errorf("a public client got a secret")
		}
		cfg := oauthConfig(p, pub, oidc.ScopeOpenID)
		state := randomHex(8)
		authURL := cfg.AuthCodeURL(state, oidc.Nonce(randomHex(8))) // no code_challenge
		res := newUserAgent(t, srv).get(authURL)
		if res.Status >= 300 && res.Status < 400 {
			q := res.Location(t).Query()
			if q.Get("error") != "invalid_request" || q.Get("state") != state {
				t.Errorf("public client without code_challenge: redirected with %v, want error=invalid_request and the state (RFC 7636 §4.4.1)", q)
			}
		} else {
			t.Errorf("public client without code_challenge: status %d at %s, want a redirect to the app with error=invalid_request (RFC 7636 §4.4.1)\n%.600s", res.Status, res.Final, res.Body)
		}

		// With PKCE the public client signs in and redeems without a secret.
		ar := newAuthRequest(cfg)
		code := codeFrom(t, newUserAgent(t, srv).signIn(ar.URL, "frank@example.com", password).Query(), ar.State)
		var tr tokenResponse
		postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {pub.ID},
			"redirect_uri": {pub.RedirectURI}, "code_verifier": {ar.Verifier}}, "", "").expect(t, http.StatusOK).decode(t, &tr)
		if tr.AccessToken == "" || tr.IDToken == "" {
			t.Errorf("public client token response lacks tokens: %+v", tr)
		}
	})
}

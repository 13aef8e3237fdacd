package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestOIDCClientRedirectURISchemes: redirect URIs are https, http, or (for
// public clients only) a private-use reverse-domain scheme (RFC 8252 §7.1);
// javascript:, data:, file: and vbscript: are refused by the CLI (one line)
// and the API (400/422 naming the field). The CLI takes each --redirect-uri
// whole: a comma belongs to the URI (CONTRACT "clients create").
func TestOIDCClientRedirectURISchemes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))

	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--redirect-uri", "javascript:alert(document.cookie)//"}, "--redirect-uri"},
		{[]string{"--redirect-uri", "data:text/html,<script>alert(1)</script>", "--public"}, "--redirect-uri"},
		{[]string{"--redirect-uri", "file:///etc/passwd", "--public"}, "--redirect-uri"},
		{[]string{"--redirect-uri", "vbscript:msgbox(1)", "--public"}, "--redirect-uri"},
		{[]string{"--redirect-uri", "com.example.app:/cb"}, "--redirect-uri"}, // private-use scheme, confidential client
		{[]string{"--redirect-uri", "https://app.example/cb", "--post-logout-redirect-uri", "javascript:alert(1)"}, "--post-logout-redirect-uri"},
	} {
		res := runCLI(t, srv, "", append([]string{"clients", "create", "--name", "bad"}, tc.args...)...)
		msg := strings.TrimSpace(res.Stderr)
		if res.Code == 0 || !strings.Contains(msg, tc.flag) || strings.Contains(msg, "\n") {
			t.Errorf("clients create %v: exit %d, stderr %q; want a failure with one line naming %s (CONTRACT)", tc.args, res.Code, res.Stderr, tc.flag)
		}
	}
	for _, body := range []map[string]any{
		{"name": "bad", "redirect_uris": []string{"javascript:alert(1)"}},
		{"name": "bad", "public": true, "redirect_uris": []string{"data:text/html,x"}},
		{"name": "bad", "redirect_uris": []string{"com.example.app:/cb"}},
	} {
		assertProblemIn(t, admin.do(t, http.MethodPost, "/clients", body), []int{400, 422}, "redirect_uris")
	}
	assertProblemIn(t, admin.do(t, http.MethodPost, "/clients", map[string]any{
		"name": "bad", "redirect_uris": []string{"https://app.example/cb"}, "post_logout_redirect_uris": []string{"vbscript:x"},
	}), []int{400, 422}, "post_logout_redirect_uris")

	// Allowed: https, http, and a reverse-domain scheme for a public client.
	createOIDCClient(t, srv, "--name", "native", "--public", "--redirect-uri", "com.example.app:/oauth2redirect", "--redirect-uri", "http://127.0.0.1/cb")

	// A comma is part of the URI, not a separator.
	withComma := "https://app.example/cb?tenants=a,b"
	c := createOIDCClient(t, srv, "--name", "comma", "--redirect-uri", withComma, "--redirect-uri", "https://app.example/other",
		"--post-logout-redirect-uri", "https://app.example/bye?x=1,2")
	var got struct {
		RedirectURIs           []string `json:"redirect_uris"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	}
	admin.get(t, "/clients/"+c.ID).expect(t, http.StatusOK).decode(t, &got)
	if !slices.Equal(got.RedirectURIs, []string{withComma, "https://app.example/other"}) {
		t.Errorf("redirect_uris %q; want each --redirect-uri whole, the comma included", got.RedirectURIs)
	}
	if !slices.Equal(got.PostLogoutRedirectURIs, []string{"https://app.example/bye?x=1,2"}) {
		t.Errorf("post_logout_redirect_uris %q; want the flag value whole", got.PostLogoutRedirectURIs)
	}
}

// TestOIDCClientRequirePKCE: PKCE is required for every client using the
// code flow by default (RFC 9700 §2.1.1); a confidential client may opt out
// with --no-require-pkce ("require_pkce": false), a public one never.
func TestOIDCClientRequirePKCE(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	cb := newCallbackServer(t)
	p := newProvider(t, srv)
	requirePKCE := func(id string) bool {
		var c struct {
			RequirePKCE *bool `json:"require_pkce"`
		}
		admin.get(t, "/clients/"+id).expect(t, http.StatusOK).decode(t, &c)
		if c.RequirePKCE == nil {
			t.Fatalf("client %s: no require_pkce in the API answer", id)
		}
		return *c.RequirePKCE
	}

	web := createOIDCClient(t, srv, "--name", "web", "--redirect-uri", cb.URL+"/callback", "--first-party")
	if !requirePKCE(web.ID) {
		t.Errorf("a confidential client requires no PKCE by default")
	}
	state := randomHex(8)
	res := newUserAgent(t, srv).get(oauthConfig(p, web, "openid").AuthCodeURL(state)) // no code_challenge
	if res.Status < 300 || res.Status >= 400 {
		t.Fatalf("confidential client without code_challenge: status %d, want a redirect to the app with error=invalid_request", res.Status)
	}
	if q := res.Location(t).Query(); q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "code_challenge") || q.Get("state") != state {
		t.Errorf("confidential client without code_challenge: redirected with %v, want error=invalid_request naming code_challenge", q)
	}

	legacy := createOIDCClient(t, srv, "--name", "legacy", "--redirect-uri", cb.URL+"/callback", "--no-require-pkce")
	if requirePKCE(legacy.ID) {
		t.Errorf("--no-require-pkce: require_pkce is still true")
	}
	res = newUserAgent(t, srv).get(oauthConfig(p, legacy, "openid").AuthCodeURL(randomHex(8)))
	if res.Status != http.StatusOK || res.Final.Path != "/login" {
		t.Errorf("opted-out client without code_challenge: status %d at %s, want the sign-in page", res.Status, res.Final)
	}

	r := runCLI(t, srv, "", "clients", "create", "--name", "spa", "--public", "--redirect-uri", cb.URL+"/spa", "--no-require-pkce")
	if msg := strings.TrimSpace(r.Stderr); r.Code == 0 || !strings.Contains(msg, "--no-require-pkce") || strings.Contains(msg, "\n") {
		t.Errorf("public client with --no-require-pkce: exit %d, stderr %q; want a one-line refusal naming the flag", r.Code, r.Stderr)
	}
	assertProblemIn(t, admin.do(t, http.MethodPost, "/clients", map[string]any{
		"name": "spa", "public": true, "redirect_uris": []string{cb.URL + "/spa"}, "require_pkce": false,
	}), []int{400, 422}, "require_pkce")
	var created struct {
		ID          string `json:"client_id"`
		RequirePKCE bool   `json:"require_pkce"`
	}
	admin.do(t, http.MethodPost, "/clients", map[string]any{"name": "api-web", "redirect_uris": []string{cb.URL + "/x"}}).
		expect(t, http.StatusCreated).decode(t, &created)
	if !created.RequirePKCE {
		t.Errorf("a client created through the API without require_pkce does not require PKCE")
	}
}

package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestOIDCCORS: cross-origin calls to the OpenID endpoints are allowed only
// from the origin of a registered redirect URI, never with credentials;
// discovery and the JWKS are public ("*").
func TestOIDCCORS(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	createOIDCClient(t, srv, "--name", "spa", "--public", "--redirect-uri", "https://app.example:8443/callback")
	createOIDCClient(t, srv, "--name", "web", "--redirect-uri", "https://web.example/cb")

	send := func(method, path, origin string, preflight bool) *http.Response {
		t.Helper()
		var body *strings.Reader
		if method == http.MethodPost && !preflight {
			body = strings.NewReader("grant_type=refresh_token&refresh_token=x&client_id=nope")
		} else {
			body = strings.NewReader("")
		}
		m := method
		if preflight {
			m = http.MethodOptions
		}
		req, err := http.NewRequest(m, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		if preflight {
			req.Header.Set("Access-Control-Request-Method", method)
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		} else if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", m, path, err)
		}
		resp.Body.Close()
		return resp
	}
	for _, ep := range []struct{ method, path string }{
		{http.MethodPost, "/oauth/token"},
		{http.MethodPost, "/oauth/introspect"},
		{http.MethodPost, "/oauth/revoke"},
		{http.MethodGet, "/userinfo"},
	} {
		for _, preflight := range []bool{true, false} {
			what := ep.method + " " + ep.path
			if preflight {
				what = "preflight of " + what
			}
			if r := send(ep.method, ep.path, "https://evil.example", preflight); r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s from https://evil.example: Access-Control-Allow-Origin %q, -Credentials %q; want neither (not a registered origin)",
					what, r.Header.Get("Access-Control-Allow-Origin"), r.Header.Get("Access-Control-Allow-Credentials"))
			}
			for _, origin := range []string{"https://app.example:8443", "https://web.example"} {
				r := send(ep.method, ep.path, origin, preflight)
				if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
					t.Errorf("%s from registered origin %s: Access-Control-Allow-Origin %q, want it", what, origin, got)
				}
				if r.Header.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("%s from %s allows credentials; no OpenID endpoint reads cookies", what, origin)
				}
			}
		}
	}
	// Another port of a registered host is another origin.
	if r := send(http.MethodPost, "/oauth/token", "https://app.example", true); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("https://app.example (the registered one is :8443) was allowed")
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		r := send(http.MethodGet, path, "https://evil.example", false)
		if r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("GET %s: Access-Control-Allow-Origin %q, -Credentials %q; want * without credentials (a public document)",
				path, r.Header.Get("Access-Control-Allow-Origin"), r.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
}

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestOIDCBasicAuthEmptyPassword: HTTP Basic client authentication with an
// empty password is a failed client authentication at the token,
// introspection and revocation endpoints: 401 invalid_client (RFC 6749
// §5.2) with a Basic challenge, whoever the client id names.
func TestOIDCBasicAuthEmptyPassword(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	web := createOIDCClient(t, srv, "--name", "web", "--redirect-uri", cb.URL+"/callback")
	spa := createOIDCClient(t, srv, "--name", "spa", "--public", "--redirect-uri", cb.URL+"/spa")
	machine := createOIDCClient(t, srv, "--name", "svc", "--grant-type", "client_credentials")
	tokenURL, introURL, revokeURL := endpoints(t, newProvider(t, srv))

	for _, ep := range []struct {
		name, url string
		form      url.Values
	}{
		{"token (client_credentials)", tokenURL, url.Values{"grant_type": {"client_credentials"}}},
		{"token (refresh_token)", tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}},
		{"token (authorization_code)", tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {web.RedirectURI}}},
		{"introspection", introURL, url.Values{"token": {"x"}}},
		{"revocation", revokeURL, url.Values{"token": {"x"}}},
	} {
		for _, id := range []string{web.ID, spa.ID, machine.ID, "no-such-client"} {
			r := postForm(t, ep.url, ep.form, id, "")
			var e struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(r.Body, &e)
			if r.Status != http.StatusUnauthorized || e.Error != "invalid_client" {
				t.Errorf("%s with Basic %s and an empty password: %d %q, want 401 invalid_client (CONTRACT)\n%s", ep.name, id, r.Status, e.Error, r.Body)
			} else if r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s with Basic %s and an empty password: 401 without WWW-Authenticate (RFC 6749 §5.2)", ep.name, id)
			}
		}
	}
}

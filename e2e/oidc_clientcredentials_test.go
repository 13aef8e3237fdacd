package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestOIDCClientCredentials: a client registered with the
// client_credentials grant gets an access token whose sub is its own id
// (CONTRACT); a wrong secret is invalid_client with 401 (RFC 6749 §5.2); a
// client without the grant gets unauthorized_client.
func TestOIDCClientCredentials(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	svc := createOIDCClient(t, srv, "--name", "service", "--grant-type", "client_credentials", "--scope", "users:read")
	if svc.Secret == "" {
		t.Fatalf("a client_credentials client got no secret")
	}
	p := newProvider(t, srv)
	tokenURL, introURL, _ := endpoints(t, p)

	cc := clientcredentials.Config{ClientID: svc.ID, ClientSecret: svc.Secret, TokenURL: tokenURL,
		Scopes: []string{"users:read"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(ctxTimeout(t))
	if err != nil {
		t.Fatalf("client credentials token: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Errorf("client credentials issued a refresh token (RFC 6749 §4.4.3: SHOULD NOT)")
	}
	checkAccessToken(t, srv, p, tok.AccessToken, svc.ID, svc.ID, []string{"users:read"})
	m := introspect(t, introURL, svc, tok.AccessToken)
	if !isActive(m) || m["sub"] != svc.ID || m["client_id"] != svc.ID {
		t.Errorf("introspection of the client credentials token: %v, want active with sub and client_id %s", m, svc.ID)
	}

	// The secret in the body works as well (client_secret_post).
	r := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {svc.ID}, "client_secret": {svc.Secret}}, "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("client_secret_post answered %d: %s", r.Status, r.Body)
	}

	// Wrong secret: 401 invalid_client, with a WWW-Authenticate challenge as
	// the client used the Authorization header (RFC 6749 §5.2).
	bad := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, svc.ID, svc.Secret+"x")
	expectOAuthError(t, bad, http.StatusUnauthorized, "invalid_client")
	if !strings.HasPrefix(strings.ToLower(bad.Header.Get("WWW-Authenticate")), "basic") {
		t.Errorf("invalid_client after Basic authentication without a WWW-Authenticate: Basic challenge (RFC 6749 §5.2 MUST), got %q", bad.Header.Get("WWW-Authenticate"))
	}
	// Unknown client.
	expectOAuthError(t, postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, "no-such-client", "secret"),
		http.StatusUnauthorized, "invalid_client")

	// A client without the grant.
	app := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	expectOAuthError(t, postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, app.ID, app.Secret),
		http.StatusBadRequest, "unauthorized_client")
	// And the service client may not use the code grant's refresh either.
	expectOAuthError(t, postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, svc.ID, svc.Secret),
		http.StatusBadRequest, "unauthorized_client")
}

package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestOIDCIntrospectionAndRevocation: introspection (RFC 7662) answers a
// client that authenticates: active with the token's claims for a live
// token, {"active": false} once it is revoked through the revocation
// endpoint (RFC 7009) or for garbage; without client authentication 401
// (CONTRACT). Revocation needs client authentication and answers 200 for
// unknown tokens (RFC 7009 §2.2).
func TestOIDCIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	password := "pw-" + randomHex(8)
	userID := createUser(t, srv, "erin@example.com", password)
	p := newProvider(t, srv)
	_, introURL, revokeURL := endpoints(t, p)

	tok := signInForTokens(t, srv, p, client, "erin@example.com", password, oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess)

	m := introspect(t, introURL, client, tok.AccessToken)
	if !isActive(m) {
		t.Fatalf("a live access token is inactive: %v", m)
	}
	if m["sub"] != userID || m["client_id"] != client.ID {
		t.Errorf("introspection sub %v client_id %v, want %s %s", m["sub"], m["client_id"], userID, client.ID)
	}
	if _, ok := m["exp"].(float64); !ok {
		t.Errorf("introspection without a numeric exp: %v", m)
	}
	if s, _ := m["scope"].(string); s == "" {
		t.Errorf("introspection without scope: %v", m)
	}
	if m := introspectHint(t, introURL, client, tok.RefreshToken, "refresh_token"); !isActive(m) {
		t.Errorf("a live refresh token (token_type_hint=refresh_token) is inactive at introspection: %v (RFC 7662 §2.1: token is an access_token or refresh_token value)", m)
	}
	if isActive(introspect(t, introURL, client, "not-a-token")) {
		t.Errorf("garbage is active at introspection")
	}

	// Unauthenticated, or with a wrong secret: 401.
	postForm(t, introURL, url.Values{"token": {tok.AccessToken}}, "", "").expect(t, http.StatusUnauthorized)
	postForm(t, introURL, url.Values{"token": {tok.AccessToken}}, client.ID, "wrong").expect(t, http.StatusUnauthorized)

	// Revocation requires client authentication (RFC 7009 §2.1).
	r := postForm(t, revokeURL, url.Values{"token": {tok.AccessToken}}, "", "")
	if r.Status != http.StatusUnauthorized && r.Status != http.StatusBadRequest {
		t.Errorf("unauthenticated revocation answered %d, want 401 invalid_client\n%s", r.Status, r.Body)
	}
	if !isActive(introspect(t, introURL, client, tok.AccessToken)) {
		t.Fatalf("an unauthenticated revocation request revoked the token")
	}
	// Another client may not revoke this client's token (RFC 7009 §2.1).
	other := createOIDCClient(t, srv, "--name", "other", "--redirect-uri", cb.URL+"/callback", "--first-party")
	_ = postForm(t, revokeURL, url.Values{"token": {tok.AccessToken}}, other.ID, other.Secret)
	if !isActive(introspect(t, introURL, client, tok.AccessToken)) {
		t.Errorf("another client revoked this client's access token (RFC 7009 §2.1: the token must have been issued to the requesting client)")
	}

	revoke(t, revokeURL, client, tok.AccessToken, "access_token")
	if m := introspect(t, introURL, client, tok.AccessToken); isActive(m) {
		t.Errorf("a revoked access token is still active: %v", m)
	}
	revoke(t, revokeURL, client, tok.RefreshToken, "")
	if m := introspectHint(t, introURL, client, tok.RefreshToken, "refresh_token"); isActive(m) {
		t.Errorf("a revoked refresh token is still active: %v", m)
	}
	// Unknown and already revoked tokens: 200 (RFC 7009 §2.2).
	revoke(t, revokeURL, client, "not-a-token", "")
	revoke(t, revokeURL, client, tok.AccessToken, "")

	// A revoked access token no longer opens userinfo.
	ur, err := http.NewRequest(http.MethodGet, p.UserInfoEndpoint(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ur.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := httpClient.Do(ur)
	if err != nil {
		t.Fatal(err)
	}
	readResponse(t, "GET", ur.URL.String(), resp).expect(t, http.StatusUnauthorized)
}

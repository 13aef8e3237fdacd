package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestOIDCRefreshAfterScopeLoss: a client that lost a scope after the
// sign-in refreshes to an access token without it (CONTRACT: a refreshed
// access token never carries a scope that the client may no longer use);
// when no scope of the grant is left, the grant is dropped.
func TestOIDCRefreshAfterScopeLoss(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	admin := api(srv, srv.AdminKey(t))
	password := "pw-" + randomHex(8)
	createUser(t, srv, "erin@example.com", password)
	p := newProvider(t, srv)
	tokenURL, introURL, _ := endpoints(t, p)

	client := createOIDCClient(t, srv, "--name", "invoicing", "--redirect-uri", cb.URL+"/callback", "--first-party",
		"--scope", "openid", "--scope", "offline_access", "--scope", "roles", "--scope", "invoices:read")
	tok := signInForTokens(t, srv, p, client, "erin@example.com", password, oidc.ScopeOpenID, oidc.ScopeOfflineAccess, "roles", "invoices:read")
	if _, c := jwtParts(t, tok.AccessToken); !contains(strings.Fields(c["scope"].(string)), "invoices:read") {
		t.Fatalf("the first access token lacks invoices:read: %v", c["scope"])
	}
	admin.do(t, http.MethodPatch, "/clients/"+client.ID, map[string]any{"scopes": []string{"openid", "offline_access", "roles"}}).expect(t, http.StatusOK)

	var t2 tokenResponse
	refresh(t, tokenURL, client, tok.RefreshToken).expect(t, http.StatusOK).decode(t, &t2)
	_, c := jwtParts(t, t2.AccessToken)
	scope, _ := c["scope"].(string)
	if contains(strings.Fields(scope), "invoices:read") || contains(strings.Fields(t2.Scope), "invoices:read") {
		t.Errorf("refreshed access token scope %q (response scope %q) carries invoices:read, which the client may no longer use (CONTRACT)", scope, t2.Scope)
	}
	if !contains(strings.Fields(scope), "roles") || !contains(strings.Fields(scope), "openid") {
		t.Errorf("refreshed access token scope %q lost scopes the client still has", scope)
	}
	// The successor carries the narrowed grant too.
	var t3 tokenResponse
	refresh(t, tokenURL, client, t2.RefreshToken).expect(t, http.StatusOK).decode(t, &t3)
	if _, c := jwtParts(t, t3.AccessToken); contains(strings.Fields(c["scope"].(string)), "invoices:read") {
		t.Errorf("the next refresh brought invoices:read back: %v", c["scope"])
	}

	// A grant of nothing but the lost scope (and offline_access) is dropped.
	api2 := createOIDCClient(t, srv, "--name", "batch", "--redirect-uri", cb.URL+"/callback", "--first-party",
		"--scope", "offline_access", "--scope", "invoices:read")
	tok = signInForTokens(t, srv, p, api2, "erin@example.com", password, oidc.ScopeOfflineAccess, "invoices:read")
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	admin.do(t, http.MethodPatch, "/clients/"+api2.ID, map[string]any{"scopes": []string{"offline_access", "invoices:write"}}).expect(t, http.StatusOK)
	expectOAuthError(t, refresh(t, tokenURL, api2, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if isActive(introspect(t, introURL, api2, tok.AccessToken)) {
		t.Errorf("the access token of a grant with no usable scope left is still active")
	}
}

package e2e

import (
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestPasswordChangeEndsSessionsAndRefreshTokens: setting a user's
// password ends every other session of that user and revokes their
// refresh tokens (CONTRACT "Password and email"; ASVS 3.3.3). The user is
// signed in in two browsers and an app holds a refresh token; the user
// changes the password through the API with their own API key (which
// survives: it is a separate credential). Both browsers are signed out
// (/account sends them to /login) and the refresh token answers
// invalid_grant.
func TestPasswordChangeEndsSessionsAndRefreshTokens(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	password := "first passphrase " + randomHex(6)
	userID := createUser(t, srv, "nora@example.com", password)
	key := createAPIKey(t, srv, "nora@example.com", "nora's key")
	p := newProvider(t, srv)
	tokenURL, _, _ := endpoints(t, p)

	browsers := []*userAgent{newUserAgent(t, srv), newUserAgent(t, srv)}
	for i, ua := range browsers {
		if st := formSignIn(t, ua, srv, "nora@example.com", password); st != http.StatusSeeOther {
			t.Fatalf("browser %d: sign-in answered %d", i+1, st)
		}
		if r := ua.get(srv.URL + "/account"); r.Status != http.StatusOK || r.Final.Path != "/account" {
			t.Fatalf("browser %d: /account answered %d at %s, want the account page", i+1, r.Status, r.Final)
		}
	}
	tok := signInForTokens(t, srv, p, client, "nora@example.com", password, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}

	api(srv, key).do(t, http.MethodPut, "/users/"+userID+"/password", map[string]any{
		"password": "second passphrase " + randomHex(6), "current_password": password,
	}).expect(t, http.StatusNoContent, http.StatusOK)

	for i, ua := range browsers {
		r := ua.get(srv.URL + "/account")
		if r.Final.Path != "/login" {
			t.Errorf("browser %d: after the password change /account answered %d at %s, want a redirect to /login (the session ended)", i+1, r.Status, r.Final)
		}
	}
	expectOAuthError(t, refresh(t, tokenURL, client, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
	// The API key is a separate credential and still works.
	api(srv, key).get(t, "/users/"+userID).expect(t, http.StatusOK)
}

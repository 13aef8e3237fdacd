package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// signInForTokens runs the code flow for a first-party client in a plain
// user agent and returns the token response (x/oauth2).
func signInForTokens(t *testing.T, srv *server, p *oidc.Provider, client oidcClient, login, password string, scopes ...string) *oauth2.Token {
	t.Helper()
	cfg := oauthConfig(p, client, scopes...)
	ar := newAuthRequest(cfg)
	loc := newUserAgent(t, srv).signIn(ar.URL, login, password)
	code := codeFrom(t, loc.Query(), ar.State)
	tok, err := cfg.Exchange(ctxTimeout(t), code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	return tok
}

func endpoints(t *testing.T, p *oidc.Provider) (token, introspection, revocation string) {
	t.Helper()
	var m struct {
		Token         string `json:"token_endpoint"`
		Introspection string `json:"introspection_endpoint"`
		Revocation    string `json:"revocation_endpoint"`
	}
	if err := p.Claims(&m); err != nil {
		t.Fatal(err)
	}
	if m.Token == "" || m.Introspection == "" || m.Revocation == "" {
		t.Fatalf("discovery lacks token, introspection or revocation endpoint: %+v", m)
	}
	return m.Token, m.Introspection, m.Revocation
}

// refresh redeems a refresh token at the token endpoint (RFC 6749 §6).
func refresh(t *testing.T, tokenURL string, c oidcClient, rt string) *apiResponse {
	t.Helper()
	return postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, c.Secret)
}

// TestOIDCRefreshRotation: offline_access gives a refresh token; each use
// rotates it; presenting a used one fails with invalid_grant and revokes
// the whole grant, so the newest refresh token and its access token stop
// working too (CONTRACT; OAuth 2.0 Security BCP §4.14.2).
func TestOIDCRefreshRotation(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	password := "pw-" + randomHex(8)
	userID := createUser(t, srv, "dave@example.com", password)
	p := newProvider(t, srv)
	tokenURL, introURL, revokeURL := endpoints(t, p)

	tok := signInForTokens(t, srv, p, client, "dave@example.com", password, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	r1 := tok.RefreshToken
	if r1 == "" {
		t.Fatalf("no refresh token although the client may refresh and offline_access was asked (CONTRACT)")
	}

	var t2 tokenResponse
	refresh(t, tokenURL, client, r1).expect(t, http.StatusOK).decode(t, &t2)
	if t2.RefreshToken == "" || t2.RefreshToken == r1 {
		t.Fatalf("refresh answered refresh_token %q, want a new one (rotation, CONTRACT)", t2.RefreshToken)
	}
	if t2.AccessToken == "" || t2.AccessToken == tok.AccessToken {
		t.Fatalf("refresh answered access_token %q, want a new one", t2.AccessToken)
	}
	checkAccessToken(t, srv, p, t2.AccessToken, userID, client.ID, []string{"openid"})
	if !isActive(introspect(t, introURL, client, t2.AccessToken)) {
		t.Fatalf("the refreshed access token is not active")
	}

	// The rotated one again: reuse. It fails and revokes the family.
	var t3 tokenResponse
	refresh(t, tokenURL, client, t2.RefreshToken).expect(t, http.StatusOK).decode(t, &t3)
	expectOAuthError(t, refresh(t, tokenURL, client, r1), http.StatusBadRequest, "invalid_grant")
	expectOAuthError(t, refresh(t, tokenURL, client, t3.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if m := introspect(t, introURL, client, t3.AccessToken); isActive(m) {
		t.Errorf("the access token of a revoked grant is still active at introspection: %v (CONTRACT: revokes every token of that grant)", m)
	}
	if m := introspectHint(t, introURL, client, t3.RefreshToken, "refresh_token"); isActive(m) {
		t.Errorf("the newest refresh token of a revoked grant is still active at introspection: %v", m)
	}

	// Revoking a refresh token (RFC 7009) ends it.
	tok = signInForTokens(t, srv, p, client, "dave@example.com", password, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	revoke(t, revokeURL, client, tok.RefreshToken, "refresh_token")
	expectOAuthError(t, refresh(t, tokenURL, client, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")

	// Another client cannot redeem this client's refresh token.
	other := createOIDCClient(t, srv, "--name", "other", "--redirect-uri", cb.URL+"/callback", "--first-party")
	tok = signInForTokens(t, srv, p, client, "dave@example.com", password, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	expectOAuthError(t, refresh(t, tokenURL, other, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
}

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestOIDCReplicas: two servers on one PostgreSQL database with one issuer
// and one master key (CONTRACT: any replica serves any request). A code
// issued by one is redeemed at the other; the tokens are introspected,
// refreshed and revoked across them.
func TestOIDCReplicas(t *testing.T) {
	t.Parallel()
	dbURL := newDatabaseURL(t, postgresDB)
	key := newMasterKey()
	a := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key})
	b := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key, Env: []string{"GATEHOUSE_ISSUER=" + a.URL}})

	cb := newCallbackServer(t)
	client := createOIDCClient(t, a, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	password := "pw-" + randomHex(8)
	userID := createUser(t, a, "jane@example.com", password)

	pa := newProvider(t, a)
	tokenA, introA, revokeA := endpoints(t, pa)
	// b's endpoints: the same paths on b's address (the issuer is a's).
	onB := func(u string) string {
		t.Helper()
		if !strings.HasPrefix(u, a.URL) {
			t.Fatalf("endpoint %s not under the issuer %s", u, a.URL)
		}
		return b.URL + strings.TrimPrefix(u, a.URL)
	}
	tokenB, introB, revokeB := onB(tokenA), onB(introA), onB(revokeA)
	if d := discoveryDoc(t, b); d["issuer"] != a.URL {
		t.Fatalf("replica b's issuer %v, want the shared %s", d["issuer"], a.URL)
	}

	// Sign in on a, redeem the code on b.
	cfg := oauthConfig(pa, client, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	ar := newAuthRequest(cfg)
	code := codeFrom(t, newUserAgent(t, a).signIn(ar.URL, "jane@example.com", password).Query(), ar.State)
	var t1 tokenResponse
	postForm(t, tokenB, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {client.RedirectURI}, "code_verifier": {ar.Verifier}}, client.ID, client.Secret).
		expect(t, http.StatusOK).decode(t, &t1)
	if t1.RefreshToken == "" {
		t.Fatalf("no refresh token with offline_access")
	}
	idt, err := pa.Verifier(&oidc.Config{ClientID: client.ID}).Verify(ctxTimeout(t), t1.IDToken)
	if err != nil || idt.Subject != userID || idt.Nonce != ar.Nonce {
		t.Fatalf("ID token issued by b does not verify against a's keys as jane: %v", err)
	}
	checkAccessToken(t, a, pa, t1.AccessToken, userID, client.ID, []string{"openid"})

	// Introspect on both.
	for _, u := range []string{introA, introB} {
		if m := introspect(t, u, client, t1.AccessToken); !isActive(m) || m["sub"] != userID {
			t.Errorf("introspection at %s: %v, want active for %s", u, m, userID)
		}
	}

	// Refresh on a, then the new tokens work on b.
	var t2 tokenResponse
	refresh(t, tokenA, client, t1.RefreshToken).expect(t, http.StatusOK).decode(t, &t2)
	if !isActive(introspect(t, introB, client, t2.AccessToken)) {
		t.Errorf("an access token refreshed on a is inactive on b")
	}
	// Within the reuse interval a concurrent redemption on b gets the same
	// successor a handed out (replicas share the master key it derives from).
	var again tokenResponse
	refresh(t, tokenB, client, t1.RefreshToken).expect(t, http.StatusOK).decode(t, &again)
	if again.RefreshToken != t2.RefreshToken {
		t.Errorf("a concurrent redemption on b got another successor than a's; want the same one (GATEHOUSE_REFRESH_REUSE_INTERVAL)")
	}
	// Once the successor is used, the rotated refresh token is spent on b too.
	refresh(t, tokenB, client, t2.RefreshToken).expect(t, http.StatusOK)
	expectOAuthError(t, refresh(t, tokenB, client, t1.RefreshToken), http.StatusBadRequest, "invalid_grant")

	// A fresh grant issued by a: refreshed and revoked on b, and a sees
	// the revocation at once.
	ar = newAuthRequest(cfg)
	code = codeFrom(t, newUserAgent(t, a).signIn(ar.URL, "jane@example.com", password).Query(), ar.State)
	var t3 tokenResponse
	postForm(t, tokenA, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {client.RedirectURI}, "code_verifier": {ar.Verifier}}, client.ID, client.Secret).
		expect(t, http.StatusOK).decode(t, &t3)
	var t4 tokenResponse
	refresh(t, tokenB, client, t3.RefreshToken).expect(t, http.StatusOK).decode(t, &t4)
	revoke(t, revokeB, client, t4.AccessToken, "access_token")
	if m := introspect(t, introA, client, t4.AccessToken); isActive(m) {
		t.Errorf("an access token revoked on b is still active at a's introspection: %v (RFC 7662 answers the token's current state; CONTRACT: any replica serves any request)", m)
	}
	revoke(t, revokeA, client, t4.RefreshToken, "refresh_token")
	expectOAuthError(t, refresh(t, tokenB, client, t4.RefreshToken), http.StatusBadRequest, "invalid_grant")
}

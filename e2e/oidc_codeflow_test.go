package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestOIDCAuthorizationCodeFlow is an app signing a user in the way real
// apps do: go-oidc discovery, x/oauth2 with PKCE S256, state and nonce, the
// user signing in on the real /login form in Chromium, the app's loopback
// callback receiving the code, the code exchanged with the verifier, the ID
// token verified by go-oidc, the access token (RFC 9068) verified against
// the JWKS, and userinfo. On SQLite and PostgreSQL.
func TestOIDCAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		t.Parallel()
		srv := startServer(t, serverOpts{DB: db})
		cb := newCallbackServer(t)
		client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
		if client.Secret == "" {
			t.Fatalf("a confidential client got no client_secret")
		}
		password := "correct horse " + randomHex(4)
		userID := createUser(t, srv, "alice@example.com", password, "auditor")

		p := newProvider(t, srv)
		cfg := oauthConfig(p, client, oidc.ScopeOpenID, "profile", "email", "roles")
		ar := newAuthRequest(cfg)
		started := time.Now()

		ctx := newBrowser(t)
		browserNavigate(t, ctx, ar.URL)
		browserSignIn(t, ctx, "alice@example.com", password)
		q := cb.wait(t, func() string { return pageState(ctx) })
		if q.Get("_path") != "/callback" {
			t.Fatalf("redirected to %s, want the registered /callback", q.Get("_path"))
		}
		code := codeFrom(t, q, ar.State)

		tctx := ctxTimeout(t)
		tok, err := cfg.Exchange(tctx, code, oauth2.VerifierOption(ar.Verifier))
		if err != nil {
			t.Fatalf("exchange the code with the PKCE verifier: %v", err)
		}
		if !strings.EqualFold(tok.TokenType, "bearer") {
			t.Errorf("token_type %q, want Bearer", tok.TokenType)
		}
		if tok.RefreshToken != "" {
			t.Errorf("a refresh token was issued without offline_access (CONTRACT: only when the request asks for offline_access)")
		}

		// The ID token, as go-oidc verifies it.
		rawID, _ := tok.Extra("id_token").(string)
		if rawID == "" {
			t.Fatalf("token response without id_token")
		}
		idt, err := p.Verifier(&oidc.Config{ClientID: client.ID}).Verify(tctx, rawID)
		if err != nil {
			t.Fatalf("go-oidc rejects the ID token: %v", err)
		}
		if idt.Nonce != ar.Nonce {
			t.Errorf("ID token nonce %q, want %q", idt.Nonce, ar.Nonce)
		}
		if idt.Subject != userID {
			t.Errorf("ID token sub %q, want the user id %q", idt.Subject, userID)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("ID token at_hash: %v", err)
		}
		if h, _ := jwtParts(t, rawID); h["alg"] != "RS256" {
			t.Errorf("ID token alg %v, want RS256 (the default for a client that registered none)", h["alg"])
		}
		var idc struct {
			AuthTime      float64  `json:"auth_time"`
			AMR           []string `json:"amr"`
			ACR           string   `json:"acr"`
			Email         string   `json:"email"`
			EmailVerified *bool    `json:"email_verified"`
			Name          string   `json:"name"`
			Roles         []string `json:"roles"`
		}
		if err := idt.Claims(&idc); err != nil {
			t.Fatalf("ID token claims: %v", err)
		}
		if at := time.Unix(int64(idc.AuthTime), 0); idc.AuthTime == 0 || at.Before(started.Add(-time.Minute)) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("ID token auth_time %v, want the moment of this sign-in (started %v)", idc.AuthTime, started)
		}
		if !contains(idc.AMR, "pwd") {
			t.Errorf("ID token amr %v, want it to contain pwd (RFC 8176)", idc.AMR)
		}
		if idc.ACR != "pwd" {
			t.Errorf("ID token acr %q, want pwd (CONTRACT)", idc.ACR)
		}
		if !contains(idc.Roles, "auditor") {
			t.Errorf("ID token roles %v, want [auditor ...] with the roles scope (CONTRACT)", idc.Roles)
		}
		if idc.Email != "alice@example.com" {
			t.Errorf("ID token email %q with the email scope, want alice@example.com", idc.Email)
		}

		// The access token: an RFC 9068 JWT that verifies against the JWKS.
		checkAccessToken(t, srv, p, tok.AccessToken, userID, client.ID, []string{"openid", "profile", "email", "roles"})
		_, atc := jwtParts(t, tok.AccessToken)
		if !contains(claimStrings(atc["roles"]), "auditor") {
			t.Errorf("access token roles %v, want [auditor ...] with the roles scope (CONTRACT)", atc["roles"])
		}

		// userinfo with the access token.
		ui, err := p.UserInfo(tctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if ui.Subject != userID || ui.Email != "alice@example.com" {
			t.Errorf("userinfo sub %q email %q, want %q alice@example.com", ui.Subject, ui.Email, userID)
		}
		var uic struct {
			Roles []string `json:"roles"`
			Name  string   `json:"name"`
		}
		if err := ui.Claims(&uic); err != nil {
			t.Fatalf("userinfo claims: %v", err)
		}
		if !contains(uic.Roles, "auditor") {
			t.Errorf("userinfo roles %v, want [auditor ...] with the roles scope (CONTRACT)", uic.Roles)
		}
		if uic.Name != "User alice@example.com" {
			t.Errorf("userinfo name %q with the profile scope, want %q", uic.Name, "User alice@example.com")
		}

		// A second authorization in the same browser uses the session (no
		// form), and without the roles scope no roles claim reaches the app.
		cfg2 := oauthConfig(p, client, oidc.ScopeOpenID, "email")
		ar2 := newAuthRequest(cfg2)
		browserNavigate(t, ctx, ar2.URL)
		code2 := codeFrom(t, cb.wait(t, func() string { return pageState(ctx) }), ar2.State)
		tok2, err := cfg2.Exchange(tctx, code2, oauth2.VerifierOption(ar2.Verifier))
		if err != nil {
			t.Fatalf("exchange the second code: %v", err)
		}
		idt2, err := p.Verifier(&oidc.Config{ClientID: client.ID}).Verify(tctx, tok2.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("second ID token: %v", err)
		}
		var idc2 map[string]any
		_ = idt2.Claims(&idc2)
		if _, ok := idc2["roles"]; ok {
			t.Errorf("ID token carries roles %v although the roles scope was not requested", idc2["roles"])
		}
		if idt2.Subject != userID || idc2["auth_time"] == nil {
			t.Errorf("second ID token sub %q auth_time %v", idt2.Subject, idc2["auth_time"])
		}
	})
}

// checkAccessToken verifies an access token as a resource server would
// (RFC 9068): typ at+jwt, signature against the JWKS, and the claims.
func checkAccessToken(t *testing.T, srv *server, p *oidc.Provider, raw, sub, clientID string, scopes []string) map[string]any {
	t.Helper()
	h, c := jwtParts(t, raw)
	if typ, _ := h["typ"].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		t.Errorf("access token typ %q, want at+jwt (RFC 9068 §2.1)", h["typ"])
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if _, err := oidc.NewRemoteKeySet(context.Background(), meta.JWKS).VerifySignature(ctxTimeout(t), raw); err != nil {
		t.Errorf("access token signature does not verify against the JWKS: %v", err)
	}
	if c["iss"] != srv.URL {
		t.Errorf("access token iss %v, want %s", c["iss"], srv.URL)
	}
	if c["sub"] != sub {
		t.Errorf("access token sub %v, want %s", c["sub"], sub)
	}
	if c["client_id"] != clientID {
		t.Errorf("access token client_id %v, want %s", c["client_id"], clientID)
	}
	if len(claimStrings(c["aud"])) == 0 {
		t.Errorf("access token without aud (RFC 9068 §2.2): %v", c)
	}
	scope, _ := c["scope"].(string)
	for _, s := range scopes {
		if !contains(strings.Fields(scope), s) {
			t.Errorf("access token scope %q lacks %q", scope, s)
		}
	}
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	if iat == 0 || exp <= iat || time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Errorf("access token iat %v exp %v: want iat set and exp after it, in the future", c["iat"], c["exp"])
	}
	if j, _ := c["jti"].(string); j == "" {
		t.Errorf("access token without jti: %v", c)
	}
	return c
}

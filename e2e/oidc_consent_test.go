package e2e

import (
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestOIDCConsent: a client that is not first-party asks the user on
// /consent with "Allow" and "Deny" (CONTRACT: Browser pages). Deny sends
// the app error=access_denied (RFC 6749 §4.1.2.1); Allow sends a code; the
// decision is remembered for that user, client and scopes, so the next
// sign-in with the same scopes goes straight back to the app.
func TestOIDCConsent(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "third-party app", "--redirect-uri", cb.URL+"/callback")
	password := "pw-" + randomHex(8)
	userID := createUser(t, srv, "carol@example.com", password)
	p := newProvider(t, srv)
	ctx := newBrowser(t)

	// Deny.
	cfgDeny := oauthConfig(p, client, oidc.ScopeOpenID, "profile")
	ar := newAuthRequest(cfgDeny)
	browserNavigate(t, ctx, ar.URL)
	browserSignIn(t, ctx, "carol@example.com", password)
	browserHasButton(t, ctx, "Allow")
	browserHasButton(t, ctx, "Deny")
	if u := browserLocation(t, ctx); u.Path != "/consent" {
		t.Errorf("consent asked at %s, want /consent (CONTRACT: Browser pages)", u)
	}
	cb.noHit(t)
	browserClick(t, ctx, "Deny")
	q := cb.wait(t, func() string { return pageState(ctx) })
	if q.Get("error") != "access_denied" || q.Get("state") != ar.State || q.Get("code") != "" {
		t.Fatalf("after Deny the app got %v, want error=access_denied with state %s and no code", q, ar.State)
	}

	// Allow, for other scopes (a new question).
	cfg := oauthConfig(p, client, oidc.ScopeOpenID, "email")
	ar = newAuthRequest(cfg)
	browserNavigate(t, ctx, ar.URL)
	browserHasButton(t, ctx, "Deny")
	browserClick(t, ctx, "Allow")
	code := codeFrom(t, cb.wait(t, func() string { return pageState(ctx) }), ar.State)
	tok, err := cfg.Exchange(ctxTimeout(t), code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("exchange after Allow: %v", err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: client.ID}).Verify(ctxTimeout(t), tok.Extra("id_token").(string))
	if err != nil || idt.Subject != userID {
		t.Fatalf("ID token after Allow: %v (sub %v, want %s)", err, idt, userID)
	}

	// The same scopes again: remembered, no consent page.
	ar = newAuthRequest(cfg)
	browserNavigate(t, ctx, ar.URL)
	code = codeFrom(t, cb.wait(t, func() string { return "consent was asked again? " + pageState(ctx) }), ar.State)
	if _, err := cfg.Exchange(ctxTimeout(t), code, oauth2.VerifierOption(ar.Verifier)); err != nil {
		t.Fatalf("exchange after remembered consent: %v", err)
	}
}

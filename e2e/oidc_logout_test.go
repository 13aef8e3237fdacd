package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestOIDCLogout: RP-Initiated Logout 1.0. With a valid id_token_hint and
// a registered post_logout_redirect_uri, end_session signs the user out
// and sends them there with the state; the next authorization request
// shows the sign-in form again. Without a hint it asks first, with a button
// "Sign out" (CONTRACT). An unregistered post_logout_redirect_uri is never
// followed.
func TestOIDCLogout(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	cb := newCallbackServer(t)
	client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party",
		"--post-logout-redirect-uri", cb.URL+"/logged-out")
	password := "pw-" + randomHex(8)
	createUser(t, srv, "gina@example.com", password)
	p := newProvider(t, srv)
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil || meta.EndSession == "" {
		t.Fatalf("discovery lacks end_session_endpoint: %v", err)
	}
	cfg := oauthConfig(p, client, oidc.ScopeOpenID)
	ctx := newBrowser(t)

	signIn := func() string {
		t.Helper()
		ar := newAuthRequest(cfg)
		browserNavigate(t, ctx, ar.URL)
		browserSignIn(t, ctx, "gina@example.com", password)
		code := codeFrom(t, cb.wait(t, func() string { return pageState(ctx) }), ar.State)
		tok, err := cfg.Exchange(ctxTimeout(t), code, oauth2.VerifierOption(ar.Verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		return tok.Extra("id_token").(string)
	}
	// expectSignInForm: a new authorization request needs the form again.
	expectSignInForm := func(what string) {
		t.Helper()
		ar := newAuthRequest(cfg)
		browserNavigate(t, ctx, ar.URL)
		sel, by := field("Email or username")
		browserDo(t, ctx, what+": the sign-in form again", chromedp.WaitVisible(sel, by))
		cb.noHit(t)
	}

	idToken := signIn()

	// An unregistered post_logout_redirect_uri is not followed.
	bad := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {cb.URL + "/evil"}, "state": {"s0"}}
	r := get(t, meta.EndSession+"?"+bad.Encode())
	if loc := r.Header.Get("Location"); r.Status >= 300 && r.Status < 400 && strings.HasPrefix(loc, cb.URL) {
		t.Errorf("end_session redirected to an unregistered post_logout_redirect_uri: %s", loc)
	}

	// With the hint: signed out and back at the app with the state.
	state := randomHex(8)
	q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {cb.URL + "/logged-out"}, "state": {state}}
	browserNavigate(t, ctx, meta.EndSession+"?"+q.Encode())
	hit := cb.wait(t, func() string { return pageState(ctx) })
	if hit.Get("_path") != "/logged-out" || hit.Get("state") != state {
		t.Fatalf("after end_session the app got %s %v, want /logged-out with state %s", hit.Get("_path"), hit, state)
	}
	expectSignInForm("after RP-initiated logout")

	// Without a hint: a page asks, with a "Sign out" button.
	browserSignIn(t, ctx, "gina@example.com", password)
	cb.wait(t, func() string { return pageState(ctx) })
	browserNavigate(t, ctx, meta.EndSession)
	browserHasButton(t, ctx, "Sign out")
	// Asking alone signs nobody out: another tab of the same browser still
	// gets a code without the form.
	tab, closeTab := chromedp.NewContext(ctx)
	ar := newAuthRequest(cfg)
	browserNavigate(t, tab, ar.URL)
	codeFrom(t, cb.wait(t, func() string { return pageState(tab) }), ar.State)
	closeTab()
	browserClick(t, ctx, "Sign out")
	sel, by := button("Sign out")
	browserDo(t, ctx, "leave the Sign out page", chromedp.WaitNotPresent(sel, by))
	expectSignInForm("after Sign out")
}

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestPasskeys is issue 9 as a user and an app see it, in real Chromium
// with its virtual authenticator (a platform authenticator with resident
// keys and user verification), on SQLite and PostgreSQL: register a passkey
// on /account ("Add passkey"), sign out, sign in with "Use passkey" alone;
// an app asking acr_values=phr gets acr phr and amr hwk+user each time it
// asks, a fresh assertion each time even with a live session; "Remove"
// takes the passkey off the list; and then (a user without a passkey) the
// app asking phr receives unmet_authentication_requirements with its state.
func TestPasskeys(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		t.Parallel()
		srv := startServer(t, serverOpts{DB: db})
		cb := newCallbackServer(t)
		client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
		password := "correct horse " + randomHex(4)
		userID := createUser(t, srv, "alice@example.com", password)
		p := newProvider(t, srv)
		cfg := oauthConfig(p, client, oidc.ScopeOpenID, "email")

		ctx := newBrowser(t)
		auth := addVirtualAuthenticator(t, ctx)

		// Register a passkey on /account.
		browserNavigate(t, ctx, srv.URL+"/login?return_to=/account")
		browserSignIn(t, ctx, "alice@example.com", password)
		waitPath(t, ctx, "/account")
		browserClick(t, ctx, "Add passkey")
		browserDo(t, ctx, "the new passkey in the list", chromedp.WaitVisible(chromedp.CSS("li[data-passkey-id]")))
		if n := len(authenticatorCredentials(t, ctx, auth)); n != 1 {
			t.Fatalf("the authenticator holds %d credentials, want 1 (resident)", n)
		}

		// Sign out; /login signs in through autofill (conditional
		// mediation on the username field: the virtual authenticator picks
		// the passkey at once, as a user choosing it from the list would).
		browserClick(t, ctx, "Sign out")
		waitPath(t, ctx, "/logout")
		browserNavigate(t, ctx, srv.URL+"/login")
		waitPath(t, ctx, "/account")

		// Sign out again; from now on the browser offers no autofill, so
		// the button "Use passkey" alone signs in (no username).
		browserClick(t, ctx, "Sign out")
		waitPath(t, ctx, "/logout")
		if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
			Source: `if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`,
		}); err != nil {
			t.Fatal(err)
		}
		browserNavigate(t, ctx, srv.URL+"/login")
		browserClick(t, ctx, "Use passkey")
		waitPath(t, ctx, "/account")
		if text := browserText(t, ctx); !strings.Contains(text, "passkey") || !strings.Contains(text, "last used 20") {
			t.Errorf("after a passkey sign-in the account page does not show the passkey as used:\n%s", text)
		}

		// The app asks for a passkey (step-up), twice; the live passkey
		// session is not enough: each time the authenticator signs again.
		count := signCount(t, ctx, auth)
		var lastAuthTime float64
		for i := range 2 {
			ar := newAuthRequest(cfg, oauth2.SetAuthURLParam("acr_values", "phr"))
			browserNavigate(t, ctx, ar.URL)
			browserClick(t, ctx, "Use passkey")
			code := codeFrom(t, cb.wait(t, func() string { return pageState(ctx) }), ar.State)
			claims := idTokenClaims(t, p, cfg, client.ID, code, ar.Verifier)
			if claims.Subject != userID || claims.ACR != "phr" || !contains(claims.AMR, "hwk") || !contains(claims.AMR, "user") {
				t.Errorf("step-up %d: sub %q acr %q amr %v, want acr phr and amr with hwk and user", i, claims.Subject, claims.ACR, claims.AMR)
			}
			if c := signCount(t, ctx, auth); c <= count {
				t.Errorf("step-up %d: the authenticator's sign count stayed %v: no fresh assertion", i, c)
			} else {
				count = c
			}
			if claims.AuthTime < lastAuthTime {
				t.Errorf("step-up %d: auth_time went back from %v to %v", i, lastAuthTime, claims.AuthTime)
			}
			lastAuthTime = claims.AuthTime
		}

		// "Remove" (a confirmation step, then "Remove passkey").
		browserNavigate(t, ctx, srv.URL+"/account")
		browserDo(t, ctx, "open Remove", chromedp.Click(`//summary[normalize-space(.)="Remove"]`))
		browserClick(t, ctx, "Remove passkey")
		waitPath(t, ctx, "/account")
		browserDo(t, ctx, "the passkey leaves the list", chromedp.WaitNotPresent(chromedp.CSS("li[data-passkey-id]")))
		if text := browserText(t, ctx); !strings.Contains(text, "You have no passkeys yet") {
			t.Errorf("after Remove the account page says:\n%s", text)
		}

		// Now without a passkey: told so, with a way back; the app gets
		// the error with its state, and no code.
		ar := newAuthRequest(cfg, oauth2.SetAuthURLParam("acr_values", "phr"))
		browserNavigate(t, ctx, ar.URL)
		if text := browserText(t, ctx); !strings.Contains(text, "has no passkey") {
			t.Errorf("the page for a user without a passkey says:\n%s", text)
		}
		// The page's link back (it also moves on by itself after a moment).
		back, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`Array.from(document.links).filter(a => a.textContent.trim() === "Return to the app").map(a => a.href).join(" ")`))
		if err != nil || !strings.Contains(back, "error=unmet_authentication_requirements") {
			t.Errorf("no link “Return to the app” carrying the error (%q, %v)", back, err)
		}
		q := cb.wait(t, func() string { return pageState(ctx) })
		if q.Get("error") != "unmet_authentication_requirements" || q.Get("state") != ar.State || q.Get("code") != "" {
			t.Errorf("the app received %v, want error=unmet_authentication_requirements with state %q", q, ar.State)
		}
	})
}

// addVirtualAuthenticator enables WebAuthn in the tab and adds a CTAP2
// platform authenticator that holds resident keys, verifies the user and
// answers at once.
func addVirtualAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
			HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

func authenticatorCredentials(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatalf("WebAuthn.getCredentials: %v", err)
	}
	return res.Credentials
}

// signCount is the signature counter of the authenticator's one credential.
func signCount(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) float64 {
	t.Helper()
	creds := authenticatorCredentials(t, ctx, id)
	if len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(creds))
	}
	return creds[0].SignCount
}

type passkeyClaims struct {
	Subject  string   `json:"sub"`
	AuthTime float64  `json:"auth_time"`
	AMR      []string `json:"amr"`
	ACR      string   `json:"acr"`
}

// idTokenClaims exchanges the code and returns the verified ID token's claims.
func idTokenClaims(t *testing.T, p *oidc.Provider, cfg *oauth2.Config, clientID, code, verifier string) passkeyClaims {
	t.Helper()
	tctx := ctxTimeout(t)
	tok, err := cfg.Exchange(tctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: clientID}).Verify(tctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	var c passkeyClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatalf("ID token claims: %v", err)
	}
	if time.Since(time.Unix(int64(c.AuthTime), 0)) > 5*time.Minute {
		t.Errorf("auth_time %v is not this sign-in", c.AuthTime)
	}
	return c
}

// TestPasskeyRemovalAsksConfirmItsYou: removing a passkey is a sensitive
// action. With a sign-in older than GATEHOUSE_REAUTH_MAX_AGE, "Remove
// passkey" shows "Confirm it's you", which asks for the passkey ("Use
// passkey"); once it is proven the removal is carried out, once.
func TestPasskeyRemovalAsksConfirmItsYou(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{Env: []string{"GATEHOUSE_REAUTH_MAX_AGE=3s"}})
	password := "correct horse " + randomHex(4)
	createUser(t, srv, "bea@example.com", password)
	ctx := newBrowser(t)
	auth := addVirtualAuthenticator(t, ctx)

	browserNavigate(t, ctx, srv.URL+"/login?return_to=/account")
	browserSignIn(t, ctx, "bea@example.com", password)
	waitPath(t, ctx, "/account")
	browserClick(t, ctx, "Add passkey")
	browserDo(t, ctx, "the new passkey in the list", chromedp.WaitVisible(chromedp.CSS("li[data-passkey-id]")))
	before := signCount(t, ctx, auth)

	time.Sleep(3500 * time.Millisecond) // the sign-in is now too old
	browserNavigate(t, ctx, srv.URL+"/account")
	browserDo(t, ctx, "open Remove", chromedp.Click(`//summary[normalize-space(.)="Remove"]`))
	browserClick(t, ctx, "Remove passkey")
	browserDo(t, ctx, "the Confirm it's you page", chromedp.WaitVisible(`//h1[normalize-space(.)="Confirm it's you"]`))
	if n := len(authenticatorCredentials(t, ctx, auth)); n != 1 {
		t.Fatalf("authenticator credentials = %d before confirming", n)
	}
	browserClick(t, ctx, "Use passkey")
	waitPath(t, ctx, "/account")
	browserDo(t, ctx, "the passkey leaves the list", chromedp.WaitNotPresent(chromedp.CSS("li[data-passkey-id]")))
	if after := signCount(t, ctx, auth); after <= before {
		t.Errorf("no fresh assertion: sign count %v → %v", before, after)
	}
}

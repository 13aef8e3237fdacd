package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestAdminUserPageEndsSession: a user signs in with their own browser
// (a cookie-keeping HTTP agent); the admin opens the user's page in
// Chromium, sees the session, the API key and the audit events, ends the
// session after confirming, and the user's next page load asks them to
// sign in again.
func TestAdminUserPageEndsSession(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	samID := createUser(t, srv, "sam@example.com", "sam's long passphrase")
	createAPIKey(t, srv, "sam@example.com", "sam-deploy", "--scope", "users:read")

	// Sam signs in to an app (the code flow, with a refresh token) in
	// their own browser: one session, which gave the app its grant.
	cb := newCallbackServer(t)
	app := createOIDCClient(t, srv, "--name", "sam's app", "--redirect-uri", cb.URL+"/callback", "--first-party")
	p := newProvider(t, srv)
	tokenURL, _, _ := endpoints(t, p)
	cfg := oauthConfig(p, app, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	ar := newAuthRequest(cfg)
	sam := newUserAgent(t, srv)
	tok, err := cfg.Exchange(ctxTimeout(t), codeFrom(t, sam.signIn(ar.URL, "sam@example.com", "sam's long passphrase").Query(), ar.State),
		oauth2.VerifierOption(ar.Verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("sam's app got no refresh token: %v", err)
	}
	if r := sam.get(srv.URL + "/account"); r.Final.Path != "/account" {
		t.Fatalf("sam is not signed in: %d at %s", r.Status, r.Final)
	}

	ctx := newBrowser(t)
	browserNavigate(t, ctx, srv.URL+"/login?return_to=/admin")
	browserSignIn(t, ctx, srv.AdminEmail, srv.AdminPassword)
	waitPath(t, ctx, "/admin")
	browserNavigate(t, ctx, srv.URL+"/admin/users/"+samID)
	browserWaitText(t, ctx, "Recent audit events")
	text := browserText(t, ctx)
	for _, want := range []string{"Go-http-client", "password", "sam-deploy", "users:read", "login.success", "No passkeys"} {
		if !strings.Contains(text, want) {
			t.Errorf("the user's page lacks %q:\n%s", want, text)
		}
	}
	browserHasButton(t, ctx, "End all sessions")
	// The filled-in page passes axe-core too (the console-wide audit sees
	// only empty sections).
	screenshot(t, ctx, 1280, filepath.Join(artifactDir(t), "user-activity-1280.png"))
	for _, v := range axeAudit(t, ctx, axeScript(t)) {
		t.Errorf("axe-core: %s (%s) %s\n\t%s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
	browserDo(t, ctx, "reset the viewport", chromedp.EmulateViewport(1280, 900))

	// End session → the confirmation page → End session.
	// Each row's button is named for its session ("End session started …").
	name, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('button[aria-label^="End session started"]').getAttribute("aria-label")`))
	if err != nil {
		t.Fatalf("no End session button in the sessions table: %v\n%s", err, pageState(ctx))
	}
	browserClick(t, ctx, name)
	browserWaitText(t, ctx, "The browser must sign in again, and apps it signed in to lose their refresh tokens.")
	if r := sam.get(srv.URL + "/account"); r.Final.Path != "/account" {
		t.Fatal("asking for confirmation already ended the session")
	}
	browserClick(t, ctx, "End session")
	browserWaitText(t, ctx, "The session was ended")
	browserWaitText(t, ctx, "No active sessions.")

	if r := sam.get(srv.URL + "/account"); r.Final.Path != "/login" {
		t.Errorf("after End session sam's /account answered %d at %s, want the sign-in page", r.Status, r.Final)
	}
	// What the session gave the app ends with it.
	expectOAuthError(t, refresh(t, tokenURL, app, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
	// The audit log has the admin's logout of sam's session.
	browserNavigate(t, ctx, srv.URL+"/admin/audit?action=logout")
	browserWaitText(t, ctx, "session:")
}

package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

const msgLinkRefused = "invalid, expired or already used"

// TestInvitationInBrowser is issue 11 as invited people see it, in real
// Chromium, with the real binary mailing through an in-test SMTP server
// over STARTTLS, on SQLite and PostgreSQL:
//
//   - an admin invites through the API; the mail's text and HTML parts hold
//     one absolute link on the issuer; it opens "New password" and "Set
//     password" (and "Add passkey"); the password set there signs in, and
//     the ID token and userinfo say email_verified true;
//   - a second person, invited with `gatehouse users invite`, adds a
//     passkey from their link with the browser's virtual authenticator;
//     /login says so, and "Use passkey" alone signs them in (verified);
//   - used links, and a link a re-sent invitation superseded, show the
//     refusal page with a 4xx status and change nothing, while the newest
//     link still works.
func TestInvitationInBrowser(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv, smtp := startMailServer(t, db)
		admin := api(srv, srv.AdminKey(t))
		cb := newCallbackServer(t)
		client := createOIDCClient(t, srv, "--name", "app", "--redirect-uri", cb.URL+"/callback", "--first-party")
		p := newProvider(t, srv)
		cfg := oauthConfig(p, client, oidc.ScopeOpenID, "email")

		// (a) Invited through the API; sets a password.
		var nina map[string]any
		admin.do(t, http.MethodPost, "/invitations", map[string]any{"email": "nina@example.com", "name": "Nina"}).
			expect(t, http.StatusCreated).decode(t, &nina)
		ninaLink := invitationLink(t, srv, waitMail(t, smtp, "nina@example.com", "/password/reset?token="))
		ctx := newBrowser(t)
		browserNavigate(t, ctx, ninaLink)
		if s := navigationStatus(t, ctx); s != http.StatusOK {
			t.Fatalf("the invitation link answered %d", s)
		}
		browserHasButton(t, ctx, "Add passkey") // offered beside the password
		password := "nina picks " + randomHex(4)
		browserFill(t, ctx, "New password", password)
		browserClick(t, ctx, "Set password")
		waitPath(t, ctx, "/login")
		if text := browserText(t, ctx); !strings.Contains(text, "Your password is set") {
			t.Fatalf("after Set password /login says:\n%s", text)
		}
		ar := newAuthRequest(cfg)
		browserNavigate(t, ctx, ar.URL)
		browserSignIn(t, ctx, "nina@example.com", password)
		id, ui := signedInClaims(t, p, cfg, client.ID, codeFrom(t, cb.wait(t, func() string { return pageState(ctx) }), ar.State), ar.Verifier)
		if id["sub"] != nina["id"] || id["email_verified"] != true || ui["email_verified"] != true {
			t.Errorf("after the invitation: sub %v (want %v), email_verified %v in the ID token and %v in userinfo, want true",
				id["sub"], nina["id"], id["email_verified"], ui["email_verified"])
		}

		// (b) Invited with the CLI; adds a passkey in a browser of their own.
		omarID := mustCLI(t, srv, "", "users", "invite", "--email", "omar@example.com", "--name", "Omar")
		omarLink := invitationLink(t, srv, waitMail(t, smtp, "omar@example.com", "/password/reset?token="))
		octx := newBrowser(t)
		auth := addVirtualAuthenticator(t, octx)
		noAutofill(t, octx) // so /login waits for "Use passkey"
		browserNavigate(t, octx, omarLink)
		sel, by := field("New password")
		browserDo(t, octx, "the password form beside the passkey", chromedp.WaitVisible(sel, by))
		browserHasButton(t, octx, "Set password")
		browserClick(t, octx, "Add passkey")
		waitPath(t, octx, "/login")
		if text := browserText(t, octx); !strings.Contains(text, "Your passkey is added. Sign in with it.") {
			t.Fatalf("after Add passkey /login says:\n%s", text)
		}
		if n := len(authenticatorCredentials(t, octx, auth)); n != 1 {
			t.Fatalf("the authenticator holds %d credentials, want 1", n)
		}
		ar = newAuthRequest(cfg)
		browserNavigate(t, octx, ar.URL)
		browserClick(t, octx, "Use passkey")
		id, ui = signedInClaims(t, p, cfg, client.ID, codeFrom(t, cb.wait(t, func() string { return pageState(octx) }), ar.State), ar.Verifier)
		if id["sub"] != omarID || !contains(claimStrings(id["amr"]), "hwk") || id["email_verified"] != true || ui["email_verified"] != true {
			t.Errorf("passkey sign-in: sub %v (want %s), amr %v, email_verified %v / %v", id["sub"], omarID, id["amr"], id["email_verified"], ui["email_verified"])
		}

		// (c) Used links are refused, and opening them changes nothing.
		for _, c := range []struct {
			ctx  context.Context
			link string
			id   any
		}{{ctx, ninaLink, nina["id"]}, {octx, omarLink, omarID}} {
			before := admin.get(t, "/users/"+c.id.(string)).expect(t, http.StatusOK).Body
			expectRefused(t, c.ctx, c.link)
			if after := admin.get(t, "/users/"+c.id.(string)).expect(t, http.StatusOK).Body; !bytes.Equal(before, after) {
				t.Errorf("opening a used link changed the user:\n%s\n%s", before, after)
			}
		}

		// A re-sent invitation supersedes the first link; the newest works.
		var pia map[string]any
		admin.do(t, http.MethodPost, "/invitations", map[string]any{"email": "pia@example.com"}).expect(t, http.StatusCreated).decode(t, &pia)
		first := invitationLink(t, srv, waitMail(t, smtp, "pia@example.com", "/password/reset?token="))
		admin.do(t, http.MethodPost, "/invitations", map[string]any{"email": "pia@example.com"}).expect(t, http.StatusOK)
		second := waitSecondLink(t, srv, smtp, "pia@example.com", first)
		before := admin.get(t, "/users/"+pia["id"].(string)).expect(t, http.StatusOK).Body
		expectRefused(t, ctx, first)
		browserNavigate(t, ctx, second)
		if s := navigationStatus(t, ctx); s != http.StatusOK {
			t.Fatalf("the newest invitation answered %d after the superseded one was opened", s)
		}
		browserHasButton(t, ctx, "Set password")
		if after := admin.get(t, "/users/"+pia["id"].(string)).expect(t, http.StatusOK).Body; !bytes.Equal(before, after) {
			t.Errorf("opening the superseded link changed the user:\n%s\n%s", before, after)
		}
	})
}

// expectRefused opens link and checks the refusal page: a 4xx status, the
// readable reason, and no form to use the link with.
func expectRefused(t *testing.T, ctx context.Context, link string) {
	t.Helper()
	browserNavigate(t, ctx, link)
	if s := navigationStatus(t, ctx); s < 400 || s > 499 {
		t.Errorf("the link %s answered %d, want a 4xx", link, s)
	}
	text := browserText(t, ctx)
	if !strings.Contains(text, msgLinkRefused) || strings.Contains(text, "Set password") || strings.Contains(text, "Add passkey") {
		t.Errorf("the refused link shows:\n%s", text)
	}
}

// waitSecondLink waits for a further invitation to addr whose link differs
// from first, and returns that link.
func waitSecondLink(t *testing.T, srv *server, smtp *testutil.SMTPServer, addr, first string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if ms := mailsTo(smtp, addr, "/password/reset?token="); len(ms) >= 2 {
			if l := invitationLink(t, srv, ms[len(ms)-1]); l != first {
				return l
			}
			t.Fatal("the re-sent invitation carries the first link again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no second invitation to %s", addr)
	return ""
}

// noAutofill makes the tab report no conditional mediation, so /login
// does not sign in through autofill by itself.
func noAutofill(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`,
	}); err != nil {
		t.Fatal(err)
	}
}

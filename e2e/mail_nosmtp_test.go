package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLinksWithoutSMTP is issue 11 with no mail server (`make run`'s
// zero configuration), with the real binary and real Chromium, on SQLite
// and PostgreSQL: each link that would have been mailed is written to the
// running server's log and given to the administrator who asked for it.
//
//   - `gatehouse users invite` prints the user's id alone on stdout and the
//     invitation link on stderr; the server logs the same link; opening it
//     in a browser and setting a password works, and the password signs in;
//   - POST /api/v1/invitations answers the link in "link";
//   - the console's "Send password reset" shows the link once, and it
//     sets a new password.
func TestLinksWithoutSMTP(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv := startServer(t, serverOpts{DB: db})

		// (a) The CLI.
		res := runCLI(t, srv, "", "users", "invite", "--email", "lea@example.com", "--name", "Lea")
		if res.Code != 0 {
			t.Fatalf("users invite: exit %d\n%s", res.Code, res.Stderr)
		}
		id := strings.TrimSpace(res.Stdout)
		if id == "" || strings.ContainsAny(id, " \n") {
			t.Fatalf("users invite printed %q on stdout, want the id alone", res.Stdout)
		}
		link := anyPasswordLink.FindString(res.Stderr)
		if !strings.HasPrefix(link, srv.URL+"/password/reset?token=") || !strings.Contains(res.Stderr, "no mail server") {
			t.Fatalf("users invite printed no invitation link on stderr:\n%s", res.Stderr)
		}
		token := mustQuery(t, link, "token")
		if !srv.waitLog(token, 20*time.Second) {
			t.Error("the running server did not write the invitation link to its log")
		}
		ctx := newBrowser(t)
		browserNavigate(t, ctx, link)
		password := "lea picks " + randomHex(4)
		browserFill(t, ctx, "New password", password)
		browserClick(t, ctx, "Set password")
		waitPath(t, ctx, "/login")
		browserWaitText(t, ctx, "Your password is set")
		browserNavigate(t, ctx, srv.URL+"/login?return_to=/account")
		browserSignIn(t, ctx, "lea@example.com", password)
		waitPath(t, ctx, "/account")

		// (b) The API.
		var inv struct{ ID, Link string }
		api(srv, srv.AdminKey(t)).do(t, http.MethodPost, "/invitations", map[string]any{"email": "max@example.com"}).
			expect(t, http.StatusCreated).decode(t, &inv)
		if inv.ID == "" || !strings.HasPrefix(inv.Link, srv.URL+"/password/reset?token=") {
			t.Errorf("POST /invitations answered id %q, link %q; want the link without a mail server", inv.ID, inv.Link)
		}

		// (c) The console: a password reset for Lea.
		actx := newBrowser(t)
		browserNavigate(t, actx, srv.URL+"/login?return_to=/admin")
		browserSignIn(t, actx, srv.AdminEmail, srv.AdminPassword)
		waitPath(t, actx, "/admin")
		browserNavigate(t, actx, srv.URL+"/admin/users/"+id)
		browserClick(t, actx, "Send password reset")
		browserWaitText(t, actx, "No mail server is configured")
		reset := anyPasswordLink.FindString(browserText(t, actx))
		if !strings.HasPrefix(reset, srv.URL+"/password/reset?token=") {
			t.Fatalf("the console shows no reset link:\n%s", browserText(t, actx))
		}
		browserNavigate(t, actx, srv.URL+"/admin/users/"+id)
		if strings.Contains(browserText(t, actx), mustQuery(t, reset, "token")) {
			t.Error("the reset link is shown again on the next visit")
		}
		rctx := newBrowser(t)
		browserNavigate(t, rctx, reset)
		newPassword := "lea changes to " + randomHex(4)
		browserFill(t, rctx, "New password", newPassword)
		browserClick(t, rctx, "Set password")
		waitPath(t, rctx, "/login")
		browserNavigate(t, rctx, srv.URL+"/login?return_to=/account")
		browserSignIn(t, rctx, "lea@example.com", newPassword)
		waitPath(t, rctx, "/account")
	})
}

// mustQuery is the query parameter name of the URL u.
func mustQuery(t *testing.T, u, name string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Query().Get(name) == "" {
		t.Fatalf("%q has no %s: %v", u, name, err)
	}
	return p.Query().Get(name)
}

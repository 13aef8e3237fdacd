package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// TestUserLinksShownWithoutSMTP: without a mail server, the page answering
// "Send invitation" or "Send password reset" shows the link once to the
// administrator who pressed it — not on the next visit, not to another
// administrator — and the link works.
func TestUserLinksShownWithoutSMTP(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleOn(t, db)
		root := c.user("root@example.com", "Root", "admin")
		other := c.user("other@example.com", "Other", "admin")
		sys := principal.With(context.Background(), principal.SystemPrincipal)
		invited, err := c.ids.InviteUser(sys, identity.NewUser{Email: "inv@example.com", Name: "Ivy"})
		if err != nil {
			t.Fatal(err)
		}
		c.as = root
		before := c.get("/admin/users/" + invited.ID)
		before.want(t, http.StatusOK, "the link is shown here once instead")
		if strings.Contains(before.body, "token=") {
			t.Fatal("a link is shown before any was sent")
		}

		r := c.post("/admin/users/"+invited.ID+"/invitation", nil)
		r.want(t, http.StatusOK, "No mail server is configured, so nothing was emailed", "Invitation link", "valid 7 days",
			`<code id="mailed-link" data-secret>`, `data-copy="mailed-link"`, "copy.js")
		mails := testutil.Outbox(t, db)
		shown := linkToken.FindStringSubmatch(r.body)
		if len(mails) != 2 || shown == nil || !strings.Contains(mails[1].Body, shown[0]) {
			t.Fatalf("the shown link is not the one queued: %v, %+v", shown, mails)
		}
		for _, who := range []string{root, other} {
			c.as = who
			if body := c.get("/admin/users/" + invited.ID).body; strings.Contains(body, shown[1]) || strings.Contains(body, "No mail server is configured") {
				t.Fatalf("the link is shown again, to %s", who)
			}
		}
		u, err := c.ids.SetPasswordWithLink(context.Background(), shown[1], "a long enough passphrase")
		if err != nil || u.ID != invited.ID || !u.HasPassword {
			t.Fatalf("set a password with the shown invitation link: %+v, %v", u, err)
		}

		c.as = root
		r = c.post("/admin/users/"+invited.ID+"/password-reset", nil)
		r.want(t, http.StatusOK, "No mail server is configured", "Password reset link", "valid 30 minutes")
		reset := linkToken.FindStringSubmatch(r.body)
		if reset == nil {
			t.Fatal("no reset link shown")
		}
		if strings.Contains(c.get("/admin/users/"+invited.ID).body, reset[1]) {
			t.Fatal("the reset link is shown again")
		}
		if _, err := c.ids.SetPasswordWithLink(context.Background(), reset[1], "another long passphrase"); err != nil {
			t.Fatalf("set a password with the shown reset link: %v", err)
		}
		if _, err := c.ids.VerifyPassword(context.Background(), "inv@example.com", "another long passphrase"); err != nil {
			t.Fatalf("sign in: %v", err)
		}
		// At most three reset links an hour: the fourth is refused, readably.
		c.post("/admin/users/"+invited.ID+"/password-reset", nil).want(t, http.StatusOK, "Password reset link")
		c.post("/admin/users/"+invited.ID+"/password-reset", nil).want(t, http.StatusOK, "Password reset link")
		r = c.post("/admin/users/"+invited.ID+"/password-reset", nil)
		r.want(t, http.StatusTooManyRequests, "already got 3 password reset links")
		if strings.Contains(r.body, "token=") {
			t.Fatal("a refused reset shows a link")
		}
	})
}

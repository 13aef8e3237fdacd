package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/mail"
)

var linkToken = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// TestUserLinks: "Send invitation" and "Send password reset" on a user's
// page mail the user a link, with the API's checks, on both databases.
// A mail server is configured, so the link is never shown.
func TestUserLinks(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleMail(t, db, smtpOptions(testutil.NewSMTPServer(t)))
		root := c.user("root@example.com", "Root", "admin")
		ua := c.user("ua@example.com", "UA", "user-admin")
		reader := c.user("aud@example.com", "Auditor", "auditor")
		sys := principal.With(context.Background(), principal.SystemPrincipal)
		withPw, err := c.ids.CreateUser(sys, identity.NewUser{Email: "pw@example.com", Name: "Pat", Password: "a long enough passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		invited, err := c.ids.InviteUser(sys, identity.NewUser{Email: "inv@example.com", Name: "Ivy"})
		if err != nil {
			t.Fatal(err)
		}
		outbox := func() []testutil.Mail { return testutil.Outbox(t, db) }
		firstInvite := outbox()
		if len(firstInvite) != 1 {
			t.Fatalf("outbox after the first invitation: %+v", firstInvite)
		}
		oldToken := linkToken.FindStringSubmatch(firstInvite[0].Body)[1]

		t.Run("a reader sees no buttons and is refused", func(t *testing.T) {
			c.as = reader
			for _, id := range []string{withPw.ID, invited.ID} {
				r := c.get("/admin/users/" + id)
				r.want(t, http.StatusOK)
				if strings.Contains(r.body, "Send invitation") || strings.Contains(r.body, "Send password reset") {
					t.Errorf("a reader is offered a link button on %s", id)
				}
			}
			c.post("/admin/users/"+withPw.ID+"/password-reset", nil).want(t, http.StatusForbidden, "You may not update")
			c.post("/admin/users/"+invited.ID+"/invitation", nil).want(t, http.StatusForbidden, "You may not create")
			if n := len(outbox()); n != 1 {
				t.Errorf("the refused requests queued mail: %d messages", n)
			}
		})
		t.Run("a user-admin resends an invitation; the old link stops working", func(t *testing.T) {
			c.as = ua
			r := c.get("/admin/users/" + invited.ID)
			r.want(t, http.StatusOK, ">Send invitation</button>", `action="/admin/users/`+invited.ID+`/invitation"`, `name="csrf_token"`)
			if strings.Contains(r.body, "Send password reset") {
				t.Error("a user without a password is offered a reset")
			}
			r = c.post("/admin/users/"+invited.ID+"/invitation", nil)
			r.want(t, http.StatusSeeOther)
			if r.location != "/admin/users/"+invited.ID+"?flash=invitation-sent" {
				t.Errorf("redirect to %q", r.location)
			}
			r = c.get(r.location)
			r.want(t, http.StatusOK, "The invitation was sent")
			if strings.Contains(r.body, "token=") || strings.Contains(r.body, "No mail server") {
				t.Error("the invitation link is shown although a mail server delivers it")
			}
			mails := outbox()
			if len(mails) != 2 || mails[1].To != "inv@example.com" || !strings.Contains(mails[1].Subject, "invited") {
				t.Fatalf("outbox: %+v", mails)
			}
			newToken := linkToken.FindStringSubmatch(mails[1].Body)[1]
			if _, err := c.ids.CheckEmailLink(context.Background(), oldToken, identity.LinkInvite); !errors.Is(err, identity.ErrEmailLink) {
				t.Errorf("the first invitation still works: %v", err)
			}
			if l, err := c.ids.CheckEmailLink(context.Background(), newToken, identity.LinkInvite); err != nil || l.UserID != invited.ID {
				t.Errorf("the new invitation: %+v, %v", l, err)
			}
		})
		t.Run("a user-admin sends a password reset", func(t *testing.T) {
			c.as = ua
			r := c.get("/admin/users/" + withPw.ID)
			r.want(t, http.StatusOK, ">Send password reset</button>", `action="/admin/users/`+withPw.ID+`/password-reset"`)
			if strings.Contains(r.body, "Send invitation") {
				t.Error("a user with a password is offered an invitation")
			}
			c.post("/admin/users/"+withPw.ID+"/invitation", nil).want(t, http.StatusConflict, "already has a password")
			r = c.post("/admin/users/"+withPw.ID+"/password-reset", nil)
			r.want(t, http.StatusSeeOther)
			if strings.Contains(c.get(r.location).body, "token=") {
				t.Error("the reset link is shown although a mail server delivers it")
			}
			mails := outbox()
			if len(mails) != 3 || mails[2].To != "pw@example.com" || !strings.Contains(mails[2].Subject, "Reset") {
				t.Fatalf("outbox: %+v", mails)
			}
			tok := linkToken.FindStringSubmatch(mails[2].Body)[1]
			if l, err := c.ids.CheckEmailLink(context.Background(), tok, identity.LinkReset); err != nil || l.UserID != withPw.ID {
				t.Errorf("the reset link: %+v, %v", l, err)
			}
		})
		t.Run("no escalation, not one's own, not a disabled user", func(t *testing.T) {
			c.as = ua
			c.post("/admin/users/"+root+"/invitation", nil).want(t, http.StatusForbidden, "rights you do not hold")
			c.as = root
			c.post("/admin/users/"+root+"/password-reset", nil).want(t, http.StatusForbidden, "account page")
			st := identity.StatusDisabled
			if _, err := c.ids.UpdateUser(sys, withPw.ID, identity.UserUpdate{Status: &st}); err != nil {
				t.Fatal(err)
			}
			c.post("/admin/users/"+withPw.ID+"/password-reset", nil).want(t, http.StatusConflict, "Only an active user")
			if n := len(outbox()); n != 3 {
				t.Errorf("refused requests queued mail: %d messages", n)
			}
		})
	})
}

// smtpOptions are mail options that deliver to srv.
func smtpOptions(srv *testutil.SMTPServer) mail.Options {
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	return mail.Options{Server: &mail.Server{Host: host, Port: p, InsecureSkipVerify: true},
		From: "Gatehouse <gatehouse@example.com>"}
}

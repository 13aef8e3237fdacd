package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/principal"
)

func TestUserEdit(t *testing.T) {
	c := newConsole(t)
	root := c.user("root@example.com", "Root", "admin")
	ua := c.user("ua@example.com", "UA", "user-admin")
	id := c.user("nora@example.com", "Nora")
	c.as = root
	base := "/admin/users/" + id

	c.get(base).want(t, http.StatusOK, `<label for="name">Name</label>`, `<label for="username">Username</label>`,
		">Save profile</button>", `<label for="email">Email</label>`, ">Change email</button>",
		`<label for="password">New password</label>`, ">Reset password</button>")

	c.post(base+"/profile", url.Values{"name": {"Nora N."}, "username": {"nora"}}).want(t, http.StatusSeeOther)
	c.get(base).want(t, http.StatusOK, "Nora N.", `value="nora"`)
	c.post(base+"/profile", url.Values{"name": {"Nora N."}, "username": {"ua@x"}}).want(t, http.StatusUnprocessableEntity, "username")

	c.post(base+"/email", url.Values{"email": {"nora@new.example.com"}}).want(t, http.StatusSeeOther)
	u, err := c.ids.UserByID(context.Background(), id)
	if err != nil || u.Email != "nora@new.example.com" || u.EmailVerified {
		t.Fatalf("after the admin's change: %+v (%v), want the new email, unverified", u, err)
	}
	c.post(base+"/email", url.Values{"email": {"ua@example.com"}}).want(t, http.StatusConflict, "already exists")

	c.post(base+"/password", url.Values{"password": {"password"}}).want(t, http.StatusUnprocessableEntity)
	c.post(base+"/password", url.Values{"password": {"nora's new long passphrase"}}).want(t, http.StatusSeeOther)
	ctx := principal.With(context.Background(), principal.SystemPrincipal)
	if _, err := c.ids.VerifyPassword(ctx, "nora", "nora's new long passphrase"); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}

	// One's own email and password: on /account (current password asked).
	r := c.get("/admin/users/" + root)
	r.want(t, http.StatusOK, "Save profile", `href="/account"`)
	if strings.Contains(r.body, "Reset password") {
		t.Error("one's own page offers Reset password")
	}
	c.post("/admin/users/"+root+"/password", url.Values{"password": {"a long new passphrase"}}).want(t, http.StatusForbidden, "account page")
	c.post("/admin/users/"+root+"/email", url.Values{"email": {"r@example.com"}}).want(t, http.StatusForbidden, "account page")

	// No escalation: a user-admin may edit a plain user, not the admin.
	c.as = ua
	c.post(base+"/profile", url.Values{"name": {"By UA"}}).want(t, http.StatusSeeOther)
	c.post("/admin/users/"+root+"/profile", url.Values{"name": {"Pwned"}}).want(t, http.StatusForbidden, "rights you do not hold")
	c.post("/admin/users/"+root+"/password", url.Values{"password": {"a long new passphrase"}}).want(t, http.StatusForbidden, "rights you do not hold")
	c.post("/admin/users/"+root+"/email", url.Values{"email": {"evil@example.com"}}).want(t, http.StatusForbidden, "rights you do not hold")

	ev := c.events()
	for _, want := range []string{"user.update by " + root, "user.password.set by " + root, "user.update by " + ua} {
		if !slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, want) }) {
			t.Errorf("no %q in %v", want, ev)
		}
	}
}

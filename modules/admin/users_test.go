package admin

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestUsersPages(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")
	evil := c.user("evil@example.com", `<img src=x onerror=alert(1)>`)

	t.Run("list escapes names and shows the navigation", func(t *testing.T) {
		r := c.get("/admin")
		r.want(t, http.StatusOK, "Search users", "evil@example.com", "&lt;img src=x onerror=alert(1)&gt;",
			`href="/admin/clients"`, `href="/admin/audit"`, "Create user")
		if strings.Contains(r.body, "<img") {
			t.Error("a user's name reached the page as markup")
		}
	})
	t.Run("search is a prefix of email or name", func(t *testing.T) {
		r := c.get("/admin/users?q=evi")
		r.want(t, http.StatusOK, "evil@example.com")
		if strings.Contains(r.body, "root@example.com") {
			t.Error("search for evi lists root")
		}
	})
	t.Run("pagination", func(t *testing.T) {
		c.get("/admin/users?page_token=%21%21").want(t, http.StatusBadRequest)
		for i := range 51 {
			c.user(fmt.Sprintf("bulk%02d@example.com", i), "Bulk")
		}
		r := c.get("/admin/users?q=bulk")
		r.want(t, http.StatusOK, `rel="next"`, "bulk00@example.com")
		i := strings.Index(r.body, `href="/admin/users?page_token=`)
		if i < 0 {
			t.Fatal("no Next link")
		}
		next := html.UnescapeString(r.body[i+6 : i+6+strings.Index(r.body[i+6:], `"`)])
		r = c.get(next)
		r.want(t, http.StatusOK, "bulk50@example.com")
		if strings.Contains(r.body, "bulk00@") || strings.Contains(r.body, `rel="next"`) {
			t.Error("the second page repeats the first or has a next page")
		}
	})

	var id string
	t.Run("create", func(t *testing.T) {
		c.get("/admin/users/new").want(t, http.StatusOK, `<label for="email">Email</label>`, ">Create</button>")
		r := c.post("/admin/users", url.Values{"email": {"new@example.com"}, "name": {"New"}})
		r.want(t, http.StatusSeeOther)
		id = strings.TrimPrefix(r.location, "/admin/users/")
		id = strings.TrimSuffix(id, "?flash=created")
		c.get("/admin/users/"+id).want(t, http.StatusOK, "new@example.com", "Assign role", "Disable", "Delete")
		r = c.post("/admin/users", url.Values{"email": {"new@example.com"}, "name": {"Again"}})
		r.want(t, http.StatusConflict, "already exists", `value="Again"`)
		r = c.post("/admin/users", url.Values{"email": {"not-an-email"}})
		r.want(t, http.StatusUnprocessableEntity, "email")
	})
	t.Run("assign, remove, disable, enable, delete", func(t *testing.T) {
		c.post("/admin/users/"+id+"/roles", url.Values{"role": {"auditor"}}).want(t, http.StatusSeeOther)
		c.get("/admin/users/"+id).want(t, http.StatusOK, `aria-label="Remove role auditor"`)
		c.post("/admin/users/"+id+"/roles/remove", url.Values{"role": {"auditor"}}).want(t, http.StatusSeeOther)
		c.post("/admin/users/"+id+"/status", url.Values{"status": {"disabled"}}).want(t, http.StatusSeeOther)
		c.get("/admin/users/"+id).want(t, http.StatusOK, ">Enable</button>")
		c.post("/admin/users/"+id+"/status", url.Values{"status": {"active"}}).want(t, http.StatusSeeOther)
		c.get("/admin/users/"+id+"/delete").want(t, http.StatusOK, "Delete user", "new@example.com")
		c.post("/admin/users/"+id+"/delete", nil).want(t, http.StatusSeeOther)
		c.get("/admin/users/"+id).want(t, http.StatusNotFound)
	})
	t.Run("changes are audited as the API's are", func(t *testing.T) {
		ev := c.events()
		for _, want := range []string{"user.create", "role.assign", "role.unassign", "user.disable", "user.update", "user.delete"} {
			if !slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, want+" by "+c.as) }) {
				t.Errorf("no %s event by the console user in %v", want, ev)
			}
		}
	})
	_ = evil
}

func TestUsersPermissions(t *testing.T) {
	c := newConsole(t)
	admin := c.user("root@example.com", "Root", "admin")
	ua := c.user("ua@example.com", "User admin", "user-admin")
	plain := c.user("plain@example.com", "Plain")

	c.as = plain
	c.get("/admin").want(t, http.StatusForbidden)
	c.get("/admin/users/"+admin).want(t, http.StatusForbidden)
	c.post("/admin/users", url.Values{"email": {"x@example.com"}}).want(t, http.StatusForbidden)

	c.as = ua
	r := c.get("/admin")
	r.want(t, http.StatusOK, `href="/admin/users"`)
	if strings.Contains(r.body, `href="/admin/clients"`) {
		t.Error("a user-admin sees Clients in the navigation")
	}
	// No escalation: a user-admin may not disable the admin, nor give the
	// admin role.
	c.post("/admin/users/"+admin+"/status", url.Values{"status": {"disabled"}}).want(t, http.StatusForbidden, "rights you do not hold")
	c.post("/admin/users/"+plain+"/roles", url.Values{"role": {"admin"}}).want(t, http.StatusForbidden)
	c.post("/admin/users/"+plain+"/delete", nil).want(t, http.StatusSeeOther)
}

package admin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuditPage(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")
	c.post("/admin/users", url.Values{"email": {"a@example.com"}}).want(t, http.StatusSeeOther)

	r := c.get("/admin/audit")
	r.want(t, http.StatusOK, "user.create", "user:"+c.as, `<label for="actor">Actor</label>`, `<label for="action">Action</label>`)
	// Newest first: the console's create comes before the set-up's.
	if strings.Index(r.body, "user:"+c.as) > strings.Index(r.body, "system:") && strings.Contains(r.body, "system:") {
		t.Error("events are not newest first")
	}
	c.get("/admin/audit?action=role.assign").want(t, http.StatusOK, "No events match")
	c.get("/admin/audit?actor=user:"+c.as+"&action=user.create").want(t, http.StatusOK, "user.create")

	c.as = c.user("ua@example.com", "UA", "user-admin")
	c.get("/admin/audit").want(t, http.StatusForbidden)
}

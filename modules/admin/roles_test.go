package admin

import (
	"net/http"
	"net/url"
	"testing"
)

func TestRolesPage(t *testing.T) {
	c := newConsole(t)
	c.as = c.user("root@example.com", "Root", "admin")
	c.get("/admin/roles").want(t, http.StatusOK, "user-admin", "built-in", "Create role")
	c.post("/admin/roles", url.Values{"name": {"editor"}, "description": {"Edits <docs>"}}).want(t, http.StatusSeeOther)
	c.get("/admin/roles").want(t, http.StatusOK, "editor", "Edits &lt;docs&gt;", `aria-label="Delete role editor"`)
	c.post("/admin/roles", url.Values{"name": {"editor"}}).want(t, http.StatusConflict, "already exists")
	c.post("/admin/roles/admin/delete", nil).want(t, http.StatusConflict, "Built-in roles")
	c.post("/admin/roles/editor/delete", nil).want(t, http.StatusSeeOther)
}

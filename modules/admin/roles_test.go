package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/identity"
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

// TestRolePage edits a role on its own page on both databases: the
// description, then its inheritance. Each change is the API's service call
// (audited as the console user); bad input, a missing right and an
// escalation show a readable message and change nothing.
func TestRolePage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		c := newConsoleOn(t, db)
		root := c.user("root@example.com", "Root", "admin")
		c.as = root
		for _, name := range []string{"editor", "helper"} {
			c.post("/admin/roles", url.Values{"name": {name}}).want(t, http.StatusSeeOther)
		}
		c.get("/admin/roles").want(t, http.StatusOK, `href="/admin/roles/editor"`)
		page := c.get("/admin/roles/editor")
		page.want(t, http.StatusOK, "Role editor", `<label for="role-description">Description</label>`,
			`<label for="parent">Parent role</label>`, `<option value="auditor">`, ">Add parent</button>", "No parent roles.", "Delete role")
		if strings.Contains(page.body, `<option value="editor">`) {
			t.Error("a role is offered as its own parent")
		}
		c.get("/admin/roles/nosuch").want(t, http.StatusNotFound)

		// Description.
		r := c.post("/admin/roles/editor", url.Values{"description": {"Edits <docs>"}})
		r.want(t, http.StatusSeeOther)
		if r.location != "/admin/roles/editor?flash=role-saved" {
			t.Errorf("saved: redirect to %q", r.location)
		}
		c.get("/admin/roles/editor?flash=role-saved").want(t, http.StatusOK, "The role was saved.", `value="Edits &lt;docs&gt;"`)
		c.post("/admin/roles/editor", url.Values{"description": {strings.Repeat("x", 501)}}).
			want(t, http.StatusUnprocessableEntity, "at most 500 characters")
		if role, _ := c.ids.RoleByName(ctx, "editor"); role.Description != "Edits <docs>" {
			t.Errorf("after a refused change the description is %q", role.Description)
		}

		// Inheritance: add, refuse a cycle and an unknown role, remove.
		c.post("/admin/roles/editor/parents", url.Values{"parent": {"helper"}}).want(t, http.StatusSeeOther)
		c.get("/admin/roles/editor").want(t, http.StatusOK, `href="/admin/roles/helper"`, `aria-label="Remove parent helper"`)
		c.post("/admin/roles/helper/parents", url.Values{"parent": {"editor"}}).want(t, http.StatusConflict, "cycle")
		c.post("/admin/roles/editor/parents", url.Values{"parent": {"nosuch"}}).want(t, http.StatusUnprocessableEntity, "does not exist")
		c.post("/admin/roles/editor/parents", url.Values{"parent": {""}}).want(t, http.StatusUnprocessableEntity, "Choose the role")
		wantParents(t, c, "helper", nil)
		wantParents(t, c, "editor", []string{"helper"})
		c.post("/admin/roles/editor/parents/remove", url.Values{"parent": {"auditor"}}).want(t, http.StatusNotFound, "does not inherit")
		c.post("/admin/roles/editor/parents/remove", url.Values{"parent": {"helper"}}).want(t, http.StatusSeeOther)
		wantParents(t, c, "editor", nil)
		for _, a := range []string{"role.update by " + root, "role_parent.create by " + root, "role_parent.delete by " + root} {
			if !slices.Contains(c.events(), a) {
				t.Errorf("no %s in %v", a, c.events())
			}
		}

		// An auditor reads the page but may change nothing.
		c.as = c.user("audrey@example.com", "Audrey", "auditor")
		page = c.get("/admin/roles/editor")
		page.want(t, http.StatusOK, "Edits &lt;docs&gt;")
		if strings.Contains(page.body, "Add parent") || strings.Contains(page.body, "Save description") {
			t.Error("an auditor is offered changes")
		}
		c.post("/admin/roles/editor", url.Values{"description": {"changed"}}).want(t, http.StatusForbidden)
		c.post("/admin/roles/editor/parents", url.Values{"parent": {"helper"}}).want(t, http.StatusForbidden)
		c.post("/admin/roles/editor/delete", nil).want(t, http.StatusForbidden)
		c.post("/admin/roles", url.Values{"name": {"audited"}}).want(t, http.StatusForbidden)
		if _, err := c.ids.RoleByName(ctx, "audited"); !errors.Is(err, identity.ErrRoleNotFound) {
			t.Errorf("an auditor created a role (%v)", err)
		}
		if role, _ := c.ids.RoleByName(ctx, "editor"); role.Description != "Edits <docs>" {
			t.Errorf("an auditor changed the description to %q", role.Description)
		}
		wantParents(t, c, "editor", nil)

		// No escalation: a user-admin may make editor inherit a role whose
		// rights it holds (helper has none), but not admin.
		uma := c.user("uma@example.com", "Uma", "user-admin")
		c.as = uma
		c.post("/admin/roles/editor/parents", url.Values{"parent": {"admin"}}).
			want(t, http.StatusForbidden, "you may not grant role admin")
		wantParents(t, c, "editor", nil)
		for _, e := range c.events() {
			if e == "role_parent.create by "+uma {
				t.Error("the refused escalation was recorded as a change")
			}
		}
		c.post("/admin/roles/editor/parents", url.Values{"parent": {"helper"}}).want(t, http.StatusSeeOther)
		wantParents(t, c, "editor", []string{"helper"})
	})
}

// wantParents checks the roles role inherits from directly.
func wantParents(t *testing.T, c *console, role string, want []string) {
	t.Helper()
	ps, err := c.az.RoleParents(context.Background(), role)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Parent)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s inherits from %v, want %v", role, got, want)
	}
}

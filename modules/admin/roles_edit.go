package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
)

const tmplRole = "admin/role.html"

// roleView is the data of admin/role.html: one role, its description form,
// the roles it inherits from and the choices to add one.
type roleView struct {
	view
	Name, Description string
	BuiltIn           bool
	Parents           []parentRow
	Candidates        []string // roles that may become a parent
	CanUpdate         bool
	CanDelete         bool
	Inheritance       bool // the authz module is wired
}

// parentRow is one role the shown role inherits from.
type parentRow struct {
	Name    string
	BuiltIn bool // built-in edges cannot be removed
}

func roleRes(name string) principal.Resource { return principal.Resource{Type: "roles", ID: name} }

func rolePath(name string) string { return "/admin/roles/" + url.PathEscape(name) }

// getRole shows a role (roles:read on it, as GET /api/v1/roles/{name} and
// GET /api/v1/roles/{name}/parents).
func (m *Module) getRole(c echo.Context) error {
	return m.renderRole(c, http.StatusOK, c.Param("name"), nil, "")
}

// renderRole writes the role page; description, when not nil, is what was
// posted (shown again after an error).
func (m *Module) renderRole(c echo.Context, status int, name string, description *string, errMsg string) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, roleRes(name), "read"); err != nil {
		return m.pageError(c, err)
	}
	r, err := m.d.Roles.RoleByName(ctx, name)
	if errors.Is(err, identity.ErrRoleNotFound) {
		return m.pageError(c, &failure{status: http.StatusNotFound, msg: "No such role."})
	}
	if err != nil {
		return m.pageError(c, err)
	}
	v := roleView{Name: r.Name, Description: r.Description, BuiltIn: r.BuiltIn, Inheritance: m.d.Policies != nil}
	if description != nil {
		v.Description = *description
	}
	if v.view, err = m.newView(c, "Role "+r.Name, "/admin/roles"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	if v.CanUpdate, err = m.can(c, roleRes(r.Name), "update"); err != nil {
		return m.pageError(c, err)
	}
	if !r.BuiltIn {
		if v.CanDelete, err = m.can(c, roleRes(r.Name), "delete"); err != nil {
			return m.pageError(c, err)
		}
	}
	if v.Inheritance {
		if err := m.fillParents(c, &v); err != nil {
			return m.pageError(c, err)
		}
	}
	return m.render(c, status, tmplRole, v)
}

// fillParents lists the role's parents and the roles that could be added.
func (m *Module) fillParents(c echo.Context, v *roleView) error {
	ctx := c.Request().Context()
	ps, err := m.d.Policies.RoleParents(ctx, v.Name)
	if err != nil {
		return err
	}
	have := map[string]bool{v.Name: true}
	for _, p := range ps {
		v.Parents = append(v.Parents, parentRow{Name: p.Parent, BuiltIn: p.BuiltIn})
		have[p.Parent] = true
	}
	roles, err := m.d.Roles.Roles(ctx)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if !have[r.Name] {
			v.Candidates = append(v.Candidates, r.Name)
		}
	}
	slices.Sort(v.Candidates)
	return nil
}

// postRoleDescription changes the description (roles:update on the role),
// as PATCH /api/v1/roles/{name}.
func (m *Module) postRoleDescription(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	if err := m.require(ctx, roleRes(name), "update"); err != nil {
		return m.pageError(c, err)
	}
	d := strings.TrimSpace(c.FormValue("description"))
	if _, err := m.d.Roles.UpdateRole(ctx, name, identity.RoleUpdate{Description: &d}); err != nil {
		return m.roleActionFailed(c, name, &d, err)
	}
	return redirect(c, rolePath(name), "role-saved")
}

// postAddParent makes the role inherit another (roles:update on it), as PUT
// /api/v1/roles/{name}/parents/{parent}: refused unless the caller holds
// every right the parent grants (no escalation). Sensitive: it is a grant.
func (m *Module) postAddParent(c echo.Context) error {
	ctx := c.Request().Context()
	name, parent := c.Param("name"), strings.TrimSpace(c.FormValue("parent"))
	if err := m.require(ctx, roleRes(name), "update"); err != nil {
		return m.pageError(c, err)
	}
	if m.d.Policies == nil {
		return m.pageError(c, &failure{status: http.StatusNotFound, msg: "Role inheritance is not available."})
	}
	if parent == "" {
		return m.renderRole(c, http.StatusUnprocessableEntity, name, nil, "Choose the role to inherit from.")
	}
	ok, err := m.d.Grants.CoversRole(ctx, signedIn(c), parent)
	if err != nil {
		return m.pageError(c, err)
	}
	if !ok {
		return m.roleActionFailed(c, name, nil, &authz.EscalationError{What: "role " + parent})
	}
	if err := m.d.Policies.AddRoleParent(ctx, name, parent); err != nil {
		return m.roleActionFailed(c, name, nil, err)
	}
	return redirect(c, rolePath(name), "parent-added")
}

// guardRoleRemoval is the API's no-escalation rule for taking a role away
// (from a user, or as a parent): what its deny rules withheld comes back.
func (m *Module) guardRoleRemoval(c echo.Context, role string) error {
	ok, err := m.d.Grants.CoversRoleRemoval(c.Request().Context(), signedIn(c), role)
	if err != nil {
		return err
	}
	if !ok {
		return &authz.EscalationError{What: "what the deny rules of role " + role + " withhold"}
	}
	return nil
}

// postRemoveParent stops the role inheriting from the posted parent
// (roles:update on it), as DELETE /api/v1/roles/{name}/parents/{parent}.
func (m *Module) postRemoveParent(c echo.Context) error {
	ctx := c.Request().Context()
	name, parent := c.Param("name"), c.FormValue("parent")
	if err := m.require(ctx, roleRes(name), "update"); err != nil {
		return m.pageError(c, err)
	}
	if m.d.Policies == nil {
		return m.pageError(c, &failure{status: http.StatusNotFound, msg: "Role inheritance is not available."})
	}
	if err := m.guardRoleRemoval(c, parent); err != nil {
		return m.roleActionFailed(c, name, nil, err)
	}
	if err := m.d.Policies.RemoveRoleParent(ctx, name, parent); err != nil {
		return m.roleActionFailed(c, name, nil, err)
	}
	return redirect(c, rolePath(name), "parent-removed")
}

// roleActionFailed shows the role page again with what went wrong, or the
// error page for an unexpected error.
func (m *Module) roleActionFailed(c echo.Context, name string, description *string, err error) error {
	var status int
	var msg string
	switch {
	case errors.Is(err, identity.ErrRoleNotFound):
		return m.pageError(c, &failure{status: http.StatusNotFound, msg: "No such role."})
	case errors.Is(err, authz.ErrNotFound):
		status, msg = http.StatusNotFound, "The role does not inherit from that role (built-in inheritance cannot be removed)."
	case errors.Is(err, authz.ErrConflict):
		status, msg = http.StatusConflict, "That inheritance would make a cycle or a chain deeper than 8 roles."
	default:
		var ok bool
		if status, msg, ok = explain(err); !ok {
			return m.pageError(c, err)
		}
	}
	return m.renderRole(c, status, name, description, msg)
}

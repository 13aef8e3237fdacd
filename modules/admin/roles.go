package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

const tmplRoles = "admin/roles.html"

// rolesView is the data of admin/roles.html.
type rolesView struct {
	view
	Roles             []roleRow
	CanCreate         bool
	Name, Description string
}

// roleRow is one role with the roles it inherits from.
type roleRow struct {
	Name, Description, Parents string
	BuiltIn, CanDelete         bool
}

func (m *Module) mountRoles(g *echo.Group, sensitive echo.MiddlewareFunc) {
	g.GET("/roles", m.getRoles)
	g.POST("/roles", m.postRole)
	g.POST("/roles/:name/delete", m.postDeleteRole)
	g.GET("/roles/:name", m.getRole)
	g.POST("/roles/:name", m.postRoleDescription)
	g.POST("/roles/:name/parents", m.postAddParent, sensitive)
	g.POST("/roles/:name/parents/remove", m.postRemoveParent)
}

var allRoles = principal.Resource{Type: "roles", ID: "*"}

// getRoles lists the roles (roles:read, as GET /api/v1/roles).
func (m *Module) getRoles(c echo.Context) error {
	return m.renderRoles(c, http.StatusOK, rolesView{})
}

func (m *Module) renderRoles(c echo.Context, status int, v rolesView) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, allRoles, "read"); err != nil {
		return m.pageError(c, err)
	}
	errMsg := v.Error
	var err error
	if v.view, err = m.newView(c, "Roles", "/admin/roles"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	roles, err := m.d.Roles.Roles(ctx)
	if err != nil {
		return m.pageError(c, err)
	}
	for _, r := range roles {
		row := roleRow{Name: r.Name, Description: r.Description, BuiltIn: r.BuiltIn}
		if m.d.Policies != nil {
			ps, err := m.d.Policies.RoleParents(ctx, r.Name)
			if err != nil {
				return m.pageError(c, err)
			}
			names := make([]string, len(ps))
			for i, p := range ps {
				names[i] = p.Parent
			}
			row.Parents = strings.Join(names, ", ")
		}
		if !r.BuiltIn {
			if row.CanDelete, err = m.can(c, principal.Resource{Type: "roles", ID: r.Name}, "delete"); err != nil {
				return m.pageError(c, err)
			}
		}
		v.Roles = append(v.Roles, row)
	}
	if v.CanCreate, err = m.can(c, allRoles, "create"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, status, tmplRoles, v)
}

// postRole creates a role (roles:create), as POST /api/v1/roles.
func (m *Module) postRole(c echo.Context) error {
	ctx := c.Request().Context()
	v := rolesView{Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description"))}
	if err := m.require(ctx, allRoles, "create"); err != nil {
		return m.pageError(c, err)
	}
	if _, err := m.d.Roles.CreateRole(ctx, identity.Role{Name: v.Name, Description: v.Description}); err != nil {
		status, msg, ok := explain(err)
		if !ok {
			return m.pageError(c, err)
		}
		v.Error = msg
		return m.renderRoles(c, status, v)
	}
	return redirect(c, "/admin/roles/"+url.PathEscape(v.Name), "role-created")
}

// postDeleteRole deletes a role (roles:delete on it), as DELETE
// /api/v1/roles/{name}; its members lose it and its rules go with it.
func (m *Module) postDeleteRole(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	if err := m.require(ctx, principal.Resource{Type: "roles", ID: name}, "delete"); err != nil {
		return m.pageError(c, err)
	}
	if err := m.d.Roles.DeleteRole(ctx, name); err != nil {
		status, msg, ok := explain(err)
		if !ok {
			return m.pageError(c, err)
		}
		return m.renderRoles(c, status, rolesView{view: view{Page: pageWithError(msg)}})
	}
	return redirect(c, "/admin/roles", "role-deleted")
}

package admin

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// Template names of a user's pages.
const (
	tmplUser       = "admin/user.html"
	tmplDeleteUser = "admin/user_delete.html"
)

const timeFormat = "2006-01-02 15:04 UTC"

// userView is the data of admin/user.html: the profile, the roles with
// their controls, and the status and delete buttons the user may use.
type userView struct {
	view
	ID, Email, Name, Username, Status string
	Created, LastSignIn               string
	Machine, Active                   bool
	Roles                             []string
	Assignable                        []string // roles the user does not hold
	CanAssign, CanUpdate, CanDelete   bool
	CanReadKeys                       bool
	// Editing (users_edit.go): Self is the signed-in user's own page, whose
	// email and password are changed on /account.
	Self, CanEditProfile, CanEditCredentials bool
	// Mailed links (users_links.go); Link is one just made, shown once when
	// no mail server delivers it.
	CanInvite, CanSendReset bool
	Link                    shownLink
	// Sessions, passkeys, API keys and recent events (users_activity.go).
	Activity userActivity
}

// userRes is the API's resource for one user (owner: the user).
func userRes(id string) principal.Resource {
	return principal.Resource{Type: "users", ID: id, OwnerID: id}
}

// getUser shows a user (users:read on them, as GET /api/v1/users/{id}).
func (m *Module) getUser(c echo.Context) error {
	return m.renderUser(c, http.StatusOK, "")
}

// renderUser shows the user of the path, with errMsg when an action failed.
func (m *Module) renderUser(c echo.Context, status int, errMsg string) error {
	return m.renderUserLink(c, status, errMsg, shownLink{})
}

// renderUserLink is renderUser, also showing link (users_links.go).
func (m *Module) renderUserLink(c echo.Context, status int, errMsg string, link shownLink) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, userRes(id), "read"); err != nil {
		return m.pageError(c, err)
	}
	u, err := m.d.Users.UserByID(ctx, id)
	if err != nil {
		return m.pageError(c, err)
	}
	v := userView{
		ID: u.ID, Email: u.Email, Name: u.Name, Username: u.Username, Status: u.Status,
		Created: u.CreatedAt.UTC().Format(timeFormat), LastSignIn: "never",
		Machine: u.Machine, Active: u.Active(), Roles: u.Roles,
	}
	if u.LastSignInAt != nil {
		v.LastSignIn = u.LastSignInAt.UTC().Format(timeFormat)
	}
	if v.view, err = m.newView(c, userLabel(u), "/admin/users"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	names, err := m.roleNames(c)
	if err != nil {
		return m.pageError(c, err)
	}
	for _, r := range names {
		if !slices.Contains(u.Roles, r) {
			v.Assignable = append(v.Assignable, r)
		}
	}
	checks := []struct {
		dst    *bool
		res    principal.Resource
		action string
	}{
		{&v.CanAssign, principal.Resource{Type: "roles", ID: "*"}, "assign"},
		{&v.CanUpdate, principal.Resource{Type: "users", ID: id}, "update"},
		{&v.CanDelete, principal.Resource{Type: "users", ID: id}, "delete"},
		{&v.CanReadKeys, principal.Resource{Type: "api-keys", ID: "*", OwnerID: id}, "read"},
	}
	for _, ch := range checks {
		if *ch.dst, err = m.can(c, ch.res, ch.action); err != nil {
			return m.pageError(c, err)
		}
	}
	if err := m.editChecks(c, &v); err != nil {
		return m.pageError(c, err)
	}
	if err := m.linkChecks(c, &v, u); err != nil {
		return m.pageError(c, err)
	}
	v.Link = link
	if v.Activity, err = m.activity(c, u, v.CanUpdate, v.CanReadKeys); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, status, tmplUser, v)
}

func userLabel(u identity.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// actionFailed shows the user's page again with the failure, or hands an
// unexpected error to the server.
func (m *Module) actionFailed(c echo.Context, err error) error {
	status, msg, ok := explain(err)
	if !ok {
		return m.pageError(c, err)
	}
	return m.renderUser(c, status, msg)
}

// guardTarget is the API's no-escalation rule for changing, disabling or
// deleting another user: the caller must hold every right they hold.
func (m *Module) guardTarget(c echo.Context, id string) error {
	p := signedIn(c)
	if p.IsUser() && p.ID == id {
		return nil
	}
	ok, err := m.d.Grants.CoversUser(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden("You may not change this user: they hold rights you do not hold.")
	}
	return nil
}

// guardRole is the API's no-escalation rule for a role grant.
func (m *Module) guardRole(c echo.Context, role string) error {
	ok, err := m.d.Grants.CoversRole(c.Request().Context(), signedIn(c), role)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden("You may not assign the role %s: it carries rights you do not hold.", role)
	}
	return nil
}

// postAssignRole is PUT /api/v1/users/{id}/roles/{role}: roles:assign on
// the role and no escalation. Sensitive.
func (m *Module) postAssignRole(c echo.Context) error {
	ctx := c.Request().Context()
	id, role := c.Param("id"), c.FormValue("role")
	if role == "" {
		return m.renderUser(c, http.StatusUnprocessableEntity, "Choose a role to assign.")
	}
	if err := m.require(ctx, principal.Resource{Type: "roles", ID: role}, "assign"); err != nil {
		return m.actionFailed(c, err)
	}
	if err := m.guardRole(c, role); err != nil {
		return m.actionFailed(c, err)
	}
	if _, err := m.d.Users.AssignRole(ctx, id, role); err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, "/admin/users/"+url.PathEscape(id), "role-assigned")
}

// postUnassignRole is DELETE /api/v1/users/{id}/roles/{role}. Sensitive.
func (m *Module) postUnassignRole(c echo.Context) error {
	ctx := c.Request().Context()
	id, role := c.Param("id"), c.FormValue("role")
	if err := m.require(ctx, principal.Resource{Type: "roles", ID: role}, "assign"); err != nil {
		return m.actionFailed(c, err)
	}
	if err := m.guardRoleRemoval(c, role); err != nil {
		return m.actionFailed(c, err)
	}
	if _, err := m.d.Users.UnassignRole(ctx, id, role); err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, "/admin/users/"+url.PathEscape(id), "role-removed")
}

// postStatus disables or enables a user, as PATCH /api/v1/users/{id} with
// status (users:update on the user as such, and no escalation). Sensitive.
func (m *Module) postStatus(c echo.Context) error {
	ctx := c.Request().Context()
	id, status := c.Param("id"), c.FormValue("status")
	if status != identity.StatusActive && status != identity.StatusDisabled {
		return m.renderUser(c, http.StatusUnprocessableEntity, "The status must be active or disabled.")
	}
	if err := m.require(ctx, principal.Resource{Type: "users", ID: id}, "update"); err != nil {
		return m.actionFailed(c, err)
	}
	if err := m.guardTarget(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	if _, err := m.d.Users.UpdateUser(ctx, id, identity.UserUpdate{Status: &status}); err != nil {
		return m.actionFailed(c, err)
	}
	flash := "enabled"
	if status == identity.StatusDisabled {
		flash = "disabled"
	}
	return redirect(c, "/admin/users/"+url.PathEscape(id), flash)
}

// deleteUserView is the data of the delete confirmation page.
type deleteUserView struct {
	view
	ID, Label string
}

// getDeleteUser asks for confirmation before a user is deleted.
func (m *Module) getDeleteUser(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, principal.Resource{Type: "users", ID: id}, "delete"); err != nil {
		return m.pageError(c, err)
	}
	u, err := m.d.Users.UserByID(ctx, id)
	if err != nil {
		return m.pageError(c, err)
	}
	v := deleteUserView{ID: u.ID, Label: u.Email}
	if v.view, err = m.newView(c, "Delete user", "/admin/users"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, http.StatusOK, tmplDeleteUser, v)
}

// postDeleteUser is DELETE /api/v1/users/{id} (users:delete, no
// escalation). Sensitive.
func (m *Module) postDeleteUser(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, principal.Resource{Type: "users", ID: id}, "delete"); err != nil {
		return m.actionFailed(c, err)
	}
	if err := m.guardTarget(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	if err := m.d.Users.DeleteUser(ctx, id); err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, "/admin/users", "deleted")
}

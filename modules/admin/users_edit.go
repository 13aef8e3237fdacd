package admin

import (
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/modules/identity"
)

// Editing a user on their page: the same checks and service calls as
// PATCH /api/v1/users/{id} and PUT /api/v1/users/{id}/password. One's own
// email and password are changed on /account, where the current password
// is asked (as the API asks for it).

func (m *Module) mountUserEdit(g *echo.Group, sensitive echo.MiddlewareFunc) {
	g.POST("/users/:id/profile", m.postProfile)
	g.POST("/users/:id/email", m.postEmail, sensitive)
	g.POST("/users/:id/password", m.postPassword, sensitive)
}

// editChecks are what the user's page offers for editing.
func (m *Module) editChecks(c echo.Context, v *userView) error {
	var err error
	if v.CanEditProfile, err = m.can(c, userRes(v.ID), "update"); err != nil {
		return err
	}
	v.Self = signedIn(c).IsUser() && signedIn(c).ID == v.ID
	v.CanEditCredentials = v.CanEditProfile && !v.Self && !v.Machine
	return nil
}

// guardEdit is the API's check before a change to the user: users:update
// on them (as their owner or as such) and no escalation.
func (m *Module) guardEdit(c echo.Context, id string) error {
	if err := m.require(c.Request().Context(), userRes(id), "update"); err != nil {
		return err
	}
	return m.guardTarget(c, id)
}

// postProfile changes the name and username, as PATCH /api/v1/users/{id}
// with name and username.
func (m *Module) postProfile(c echo.Context) error {
	id := c.Param("id")
	if err := m.guardEdit(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	name, username := strings.TrimSpace(c.FormValue("name")), strings.TrimSpace(c.FormValue("username"))
	upd := identity.UserUpdate{Name: &name, Username: &username}
	if _, err := m.d.Users.UpdateUser(c.Request().Context(), id, upd); err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, "/admin/users/"+url.PathEscape(id), "profile-saved")
}

// postEmail sets another user's email, as PATCH /api/v1/users/{id} with
// email by an administrator: at once, and unverified. Sensitive.
func (m *Module) postEmail(c echo.Context) error {
	id := c.Param("id")
	if p := signedIn(c); p.IsUser() && p.ID == id {
		return m.actionFailed(c, forbidden("Change your own email on your account page: it needs your current password."))
	}
	if err := m.guardEdit(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	email := strings.TrimSpace(c.FormValue("email"))
	if _, err := m.d.Users.UpdateUser(c.Request().Context(), id, identity.UserUpdate{Email: &email}); err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, "/admin/users/"+url.PathEscape(id), "email-changed")
}

// postPassword sets another user's password, as PUT
// /api/v1/users/{id}/password by an administrator; their other sessions
// and refresh tokens end (the identity service's password listeners).
// Sensitive.
func (m *Module) postPassword(c echo.Context) error {
	id := c.Param("id")
	if p := signedIn(c); p.IsUser() && p.ID == id {
		return m.actionFailed(c, forbidden("Change your own password on your account page: it needs your current password."))
	}
	if err := m.guardEdit(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	if err := m.d.Users.SetPassword(c.Request().Context(), id, c.FormValue("password")); err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, "/admin/users/"+url.PathEscape(id), "password-set")
}

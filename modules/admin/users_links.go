package admin

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/modules/identity"
)

// Mailing a user a link to set a password, from their page: an invitation
// for a user who has none (as POST /api/v1/invitations re-inviting them;
// the earlier link stops working), or a password reset for one who has one.
// The link goes to the user's own address. Without a mail server the mail
// module writes it to the server's log, and the page that answers the
// button shows it once to the administrator who pressed it (rendered in
// that response, never stored or put in a URL), so they can pass it on.

func (m *Module) mountUserLinks(g *echo.Group) {
	if m.d.Links == nil {
		return
	}
	g.POST("/users/:id/invitation", m.postInvitation)
	g.POST("/users/:id/password-reset", m.postPasswordReset)
}

// shownLink is a link just made that no mail server delivers: Label names
// it ("Invitation link"), Valid says for how long.
type shownLink struct {
	Label, Valid, URL string
}

// linkChecks are which of the two buttons the user's page offers: never on
// one's own page, nor for a service account or a disabled user.
func (m *Module) linkChecks(c echo.Context, v *userView, u identity.User) error {
	if m.d.Links == nil || v.Self || u.Machine || !u.Active() {
		return nil
	}
	if !u.HasPassword {
		var err error
		v.CanInvite, err = m.can(c, allUsers, "create")
		return err
	}
	v.CanSendReset = v.CanEditProfile
	return nil
}

// postInvitation invites the user again: users:create and no escalation
// over them, as the API's re-invitation.
func (m *Module) postInvitation(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, allUsers, "create"); err != nil {
		return m.actionFailed(c, err)
	}
	if err := m.guardTarget(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	u, err := m.d.Users.UserByID(ctx, id)
	if err != nil {
		return m.actionFailed(c, err)
	}
	if u.HasPassword || u.Machine {
		return m.renderUser(c, http.StatusConflict, "This user already has a password or is a service account: send a password reset instead.")
	}
	inv, err := m.d.Links.InviteUser(ctx, identity.NewUser{Email: u.Email, Name: u.Name})
	if err != nil {
		return m.actionFailed(c, err)
	}
	if inv.Link != "" {
		return m.renderUserLink(c, http.StatusOK, "", shownLink{Label: "Invitation link", Valid: "7 days", URL: inv.Link})
	}
	return redirect(c, "/admin/users/"+url.PathEscape(id), "invitation-sent")
}

// postPasswordReset mails the user a reset link (valid 30 minutes):
// users:update on them and no escalation, as setting their password. One's
// own password is changed on /account.
func (m *Module) postPasswordReset(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if p := signedIn(c); p.IsUser() && p.ID == id {
		return m.actionFailed(c, forbidden("Change your own password on your account page: it needs your current password."))
	}
	if err := m.guardEdit(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	u, err := m.d.Users.UserByID(ctx, id)
	if err != nil {
		return m.actionFailed(c, err)
	}
	if u.Machine || !u.Active() {
		return m.renderUser(c, http.StatusConflict, "Only an active user who signs in with a password can reset it.")
	}
	link, err := m.d.Links.SendPasswordReset(ctx, id)
	switch {
	case errors.Is(err, identity.ErrResetLimit):
		return m.renderUser(c, http.StatusTooManyRequests, "This user already got 3 password reset links in the last hour; the latest one still works until it expires.")
	case errors.Is(err, identity.ErrUserDisabled), errors.Is(err, identity.ErrMachinePassword):
		return m.renderUser(c, http.StatusConflict, "Only an active user who signs in with a password can reset it.")
	case err != nil:
		return m.actionFailed(c, err)
	case link != "":
		return m.renderUserLink(c, http.StatusOK, "", shownLink{Label: "Password reset link", Valid: "30 minutes", URL: link})
	}
	return redirect(c, "/admin/users/"+url.PathEscape(id), "reset-sent")
}

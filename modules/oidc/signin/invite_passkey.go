package signin

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// "Add passkey" on the invitation page (CONTRACT "Email": the invitation is
// "to set a password or add a passkey"). The invitation token, not a
// session, authorizes the WebAuthn registration: the browser script
// (web/static/passkeys.js) posts the token to begin, runs
// navigator.credentials.create with the options, and posts the token, the
// handle and the attestation to finish, which stores the passkey and uses
// the link up in one transaction, then answers {"redirect"} to /login with
// a notice. A reset link offers no passkey: it is for a forgotten password.
const (
	pathInvitePasskeyBegin  = identity.PathPasswordLink + "/passkey/begin"
	pathInvitePasskeyFinish = identity.PathPasswordLink + "/passkey/finish"
	noticePasskeyAdded      = "passkey-added"
	flashPasskeyAdded       = "Your passkey is added. Sign in with it."
)

func (p *Pages) mountInvitePasskey(g *echo.Group, csrf echo.MiddlewareFunc) {
	if p.passkeys == nil {
		return
	}
	g.POST(pathInvitePasskeyBegin, p.postInvitePasskeyBegin, csrf)
	g.POST(pathInvitePasskeyFinish, p.postInvitePasskeyFinish, csrf)
}

// inviteLinkRefused is the problem answer for a token that is not a valid
// invitation (unknown, used, superseded, expired, or a reset link).
func inviteLinkRefused(c echo.Context) error {
	return httpserver.WriteProblem(c, http.StatusBadRequest, msgLinkInvalid)
}

// postInvitePasskeyBegin answers {"options", "handle"} for
// navigator.credentials.create, for the user the invitation names. It
// counts against the source address's sign-in limit, like /login.
func (p *Pages) postInvitePasskeyBegin(c echo.Context) error {
	ctx := c.Request().Context()
	if limited, err := p.passkeyThrottled(c, sourceKey(c), "invite-passkey"); limited || err != nil {
		return err
	}
	link, err := p.recovery.CheckEmailLink(ctx, c.FormValue("token"), identity.LinkInvite)
	if err != nil {
		return inviteLinkRefused(c)
	}
	cer, err := p.passkeys.BeginRegistration(ctx, link.UserID)
	switch {
	case errors.Is(err, passkeys.ErrUserDisabled):
		return httpserver.WriteProblem(c, http.StatusForbidden, msgDisabled)
	case errors.Is(err, passkeys.ErrNotFound):
		return inviteLinkRefused(c)
	case err != nil:
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, cer)
}

// postInvitePasskeyFinish verifies the attestation and stores the passkey
// and uses the invitation up in one transaction: an invalid attestation
// keeps nothing and leaves the link usable; of two finishes with one link
// (or a finish racing "Set password") exactly one wins, and the loser's
// passkey is not kept.
func (p *Pages) postInvitePasskeyFinish(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	link, err := p.recovery.CheckEmailLink(ctx, token, identity.LinkInvite)
	if err != nil {
		return inviteLinkRefused(c)
	}
	useLink := func(ctx context.Context) error {
		_, err := p.recovery.AcceptInviteWithPasskey(ctx, token)
		return err
	}
	_, err = p.passkeys.FinishRegistrationThen(ctx, link.UserID, c.FormValue("handle"), "", []byte(c.FormValue("credential")), useLink)
	switch {
	case errors.Is(err, identity.ErrEmailLink):
		return inviteLinkRefused(c)
	case errors.Is(err, passkeys.ErrUserDisabled):
		return httpserver.WriteProblem(c, http.StatusForbidden, msgDisabled)
	case errors.Is(err, passkeys.ErrDuplicate):
		return httpserver.WriteProblem(c, http.StatusConflict, passkeys.Message(err))
	case passkeyRefused(err):
		return httpserver.WriteProblem(c, http.StatusBadRequest, passkeys.Message(err))
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"redirect": "/login?notice=" + noticePasskeyAdded})
}

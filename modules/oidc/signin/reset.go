package signin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/web"
)

// The emailed-link pages live here, beside /login, because they are the
// sign-in half's business: pages for people who are not signed in, with the
// same CSRF, source-address limit and templates as /login, ending on /login.
// Identity owns the links themselves (tokens, users, mail).

// Recovery is what the emailed-link pages need from identity
// (identity.Service satisfies it). Optional: without it /login offers no
// "Forgot password?" page.
type Recovery interface {
	// RequestPasswordReset answers nil whether or not the account exists.
	RequestPasswordReset(ctx context.Context, email string) error
	CheckEmailLink(ctx context.Context, token string, kinds ...string) (identity.EmailLink, error)
	SetPasswordWithLink(ctx context.Context, token, password string) (identity.User, error)
	// AcceptInviteWithPasskey uses an invitation link up, in the
	// transaction in ctx, for a user who added a passkey instead of a
	// password (invite_passkey.go).
	AcceptInviteWithPasskey(ctx context.Context, token string) (identity.User, error)
	VerifyEmailWithLink(ctx context.Context, token string) (identity.User, error)
	RequestEmailVerification(ctx context.Context, userID string) error
}

// Templates of the emailed-link pages.
const (
	tmplForgot      = "oidc/forgot.html"
	tmplSetPassword = "oidc/set_password.html"
	tmplVerifyEmail = "oidc/verify_email.html"
	pathForgot      = "/password/forgot"
)

// Readable outcomes.
const (
	msgLinkInvalid = "This link is invalid, expired or already used. Ask for a new one: on the sign-in page choose “Forgot password?”, or ask an administrator to invite you again."
	noticeReset    = "password-set"
	flashPwSet     = "Your password is set. Sign in with it."
)

// loginNotice is the message /login shows after ?notice=…; only our own
// texts, never text from the URL.
func loginNotice(code string) string {
	switch code {
	case noticeReset:
		return flashPwSet
	case noticePasskeyAdded:
		return flashPasskeyAdded
	}
	return ""
}

type forgotView struct {
	web.Page
	Email string
	Sent  bool
}

type setPasswordView struct {
	web.Page
	Token   string
	Invite  bool
	Expires string
	// Passkey offers "Add passkey" (an invitation, with passkeys wired).
	Passkey bool
	// PasskeyBegin and PasskeyFinish are its endpoints.
	PasskeyBegin, PasskeyFinish string
}

type verifyEmailView struct {
	web.Page
	Token string
	Email string
	Done  bool
}

func (p *Pages) mountRecovery(g *echo.Group, csrf echo.MiddlewareFunc) {
	g.GET(pathForgot, p.getForgot, csrf)
	g.POST(pathForgot, p.postForgot, csrf)
	g.GET(identity.PathPasswordLink, p.getSetPassword, csrf)
	g.POST(identity.PathPasswordLink, p.postSetPassword, csrf)
	p.mountInvitePasskey(g, csrf)
	g.GET(identity.PathVerifyLink, p.getVerifyEmail, csrf)
	g.POST(identity.PathVerifyLink, p.postVerifyEmail, csrf)
}

func (p *Pages) renderRecovery(c echo.Context, status int, name string, v any) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer") // the token is in the URL
	return p.render.HTML(c, status, name, v)
}

func (p *Pages) linkInvalid(c echo.Context) error {
	return p.renderRecovery(c, http.StatusBadRequest, tmplBadRequest, badRequestView{
		Page: web.Page{Title: "Link not valid"}, Message: msgLinkInvalid})
}

func (p *Pages) getForgot(c echo.Context) error {
	return p.renderRecovery(c, http.StatusOK, tmplForgot, forgotView{
		Page: web.Page{Title: "Forgot password", CSRF: httpserver.CSRFToken(c)}})
}

// postForgot answers the same page whether or not the account exists; the
// service does equivalent work either way.
func (p *Pages) postForgot(c echo.Context) error {
	ctx := c.Request().Context()
	email := strings.TrimSpace(c.FormValue("email"))
	v := forgotView{Page: web.Page{Title: "Forgot password", CSRF: httpserver.CSRFToken(c)}, Email: email}
	if email == "" || len(email) > maxLoginLen || !strings.Contains(email, "@") {
		v.Error = "Enter the email address of your account."
		return p.renderRecovery(c, http.StatusBadRequest, tmplForgot, v)
	}
	if wait, err := p.counter.hitSource(ctx, sourceKey(c), p.now()); err != nil {
		return err
	} else if wait > 0 {
		return p.refuse(c, attempt{}, "source", wait)
	}
	if allowed, err := p.allowResetRequest(ctx, email); err != nil {
		return err
	} else if allowed {
		if err := p.recovery.RequestPasswordReset(ctx, email); err != nil {
			p.logger.ErrorContext(ctx, "password reset request", slog.String("error", err.Error()))
		}
	}
	v.Sent = true
	return p.renderRecovery(c, http.StatusOK, tmplForgot, v)
}

func (p *Pages) getSetPassword(c echo.Context) error {
	link, err := p.recovery.CheckEmailLink(c.Request().Context(), c.QueryParam("token"), identity.LinkInvite, identity.LinkReset)
	if err != nil {
		return p.linkInvalid(c)
	}
	return p.renderSetPassword(c, http.StatusOK, c.QueryParam("token"), link, "")
}

func (p *Pages) renderSetPassword(c echo.Context, status int, token string, link identity.EmailLink, msg string) error {
	title := "Choose a new password"
	invite := link.Kind == identity.LinkInvite
	canRegister := p.passkeys != nil
	if invite {
		title = "Set your password"
	}
	return p.renderRecovery(c, status, tmplSetPassword, setPasswordView{
		Page:  web.Page{Title: title, CSRF: httpserver.CSRFToken(c), Error: msg},
		Token: token, Invite: invite, Expires: link.ExpiresAt.Format(accountTimeFormat),
		Passkey: invite && canRegister, PasskeyBegin: pathInvitePasskeyBegin, PasskeyFinish: pathInvitePasskeyFinish,
	})
}

// postSetPassword sets the password (ending the user's other sessions and
// refresh tokens) and sends the browser to /login with a message.
func (p *Pages) postSetPassword(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	link, err := p.recovery.CheckEmailLink(ctx, token, identity.LinkInvite, identity.LinkReset)
	if err != nil {
		return p.linkInvalid(c)
	}
	password := c.FormValue("password")
	if len(password) > maxPasswordLen {
		return p.renderSetPassword(c, http.StatusBadRequest, token, link, "The password is too long.")
	}
	_, err = p.recovery.SetPasswordWithLink(ctx, token, password)
	var ve *validation.Error
	switch {
	case errors.As(err, &ve):
		return p.renderSetPassword(c, http.StatusUnprocessableEntity, token, link, "New password "+ve.Message+".")
	case errors.Is(err, identity.ErrEmailLink):
		return p.linkInvalid(c)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login?notice="+noticeReset)
}

// getVerifyEmail asks for a click before using the link, so a mail
// scanner that fetches links does not use it up.
func (p *Pages) getVerifyEmail(c echo.Context) error {
	link, err := p.recovery.CheckEmailLink(c.Request().Context(), c.QueryParam("token"), identity.LinkVerify)
	if err != nil {
		return p.linkInvalid(c)
	}
	return p.renderRecovery(c, http.StatusOK, tmplVerifyEmail, verifyEmailView{
		Page: web.Page{Title: "Verify email", CSRF: httpserver.CSRFToken(c)}, Token: c.QueryParam("token"), Email: link.SentTo})
}

func (p *Pages) postVerifyEmail(c echo.Context) error {
	u, err := p.recovery.VerifyEmailWithLink(c.Request().Context(), c.FormValue("token"))
	switch {
	case errors.Is(err, identity.ErrEmailLink):
		return p.linkInvalid(c)
	case errors.Is(err, identity.ErrEmailTaken):
		return p.renderRecovery(c, http.StatusConflict, tmplBadRequest, badRequestView{
			Page: web.Page{Title: "Email not changed"}, Message: "Another account uses this address now, so it cannot become yours."})
	case err != nil:
		return err
	}
	return p.renderRecovery(c, http.StatusOK, tmplVerifyEmail, verifyEmailView{
		Page: web.Page{Title: "Email verified", Flash: u.Email + " is verified."}, Email: u.Email, Done: true})
}

// postAccountVerify mails the signed-in user a link that confirms their
// address ("Send verification link" on /account).
func (p *Pages) postAccountVerify(c echo.Context) error {
	ctx := c.Request().Context()
	pr, ok := principal.From(ctx)
	if !ok || pr.Via != principal.ViaSession {
		return echo.NewHTTPError(http.StatusUnauthorized, "sign in first")
	}
	if err := p.recovery.RequestEmailVerification(ctx, pr.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account?flash="+url.QueryEscape(flashVerifySent))
}

const flashVerifySent = "A verification link is on its way to your email address."

package signin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// /account's credentials: "Change password" and personal API keys
// (CONTRACT "Browser pages"). Changing the password and creating a key are
// sensitive actions (Routes.Sensitive: "Confirm it's you" when the proof of
// identity is too old); revoking a key only takes credentials away.

// Messages of the account page.
const (
	flashPasswordChanged = "Your password was changed. Your other sessions were signed out."
	flashKeyRevoked      = "The API key was revoked."
	errWrongPassword     = "The current password is not right. Your password was not changed."
	errNoPassword        = "Your account has no password to change."
)

// accountKeyView is one personal API key in the list.
type accountKeyView struct {
	ID, Name, Prefix, Created, LastUsed, Expires string
}

// accountNewKeyView is the key just created: its secret is shown once.
type accountNewKeyView struct {
	Name, Secret string
}

func apiKeyView(k APIKey) accountKeyView {
	v := accountKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Created: k.CreatedAt.Format(accountTimeFormat), LastUsed: "never"}
	if k.LastUsedAt != nil {
		v.LastUsed = k.LastUsedAt.Format(accountTimeFormat)
	}
	if k.ExpiresAt != nil {
		v.Expires = k.ExpiresAt.Format(accountTimeFormat)
	}
	return v
}

// mountAccountCredentials adds the password and API key routes to the
// Account group (session and CSRF already required).
func (p *Pages) mountAccountCredentials(r module.Routes) {
	var sensitive []echo.MiddlewareFunc
	if r.Sensitive != nil {
		sensitive = append(sensitive, r.Sensitive)
	}
	if p.passwords != nil {
		r.Account.POST("/password", p.postChangePassword, sensitive...)
	}
	if p.apiKeys != nil {
		r.Account.POST("/api-keys", p.postCreateAPIKey, sensitive...)
		r.Account.POST("/api-keys/:id/revoke", p.postRevokeAPIKey)
	}
}

// accountPrincipal is the signed-in browser user, or a 401.
func accountPrincipal(c echo.Context) (principal.Principal, error) {
	pr, ok := principal.From(c.Request().Context())
	if !ok || pr.Via != principal.ViaSession {
		return principal.Principal{}, echo.NewHTTPError(http.StatusUnauthorized, "sign in to manage your account")
	}
	return pr, nil
}

// renderAccountError answers the account page with msg, status 400 (or
// 401), so nothing is changed and the user sees why.
func (p *Pages) renderAccountError(c echo.Context, pr principal.Principal, status int, msg string) error {
	v, err := p.accountPage(c, pr)
	if err != nil {
		return err
	}
	v.Flash, v.Error = "", msg
	return p.render.HTML(c, status, tmplAccount, v)
}

// postChangePassword checks the current password, then sets the new one.
// identity ends the user's other sessions and refresh tokens in the same
// transaction; this session stays.
func (p *Pages) postChangePassword(c echo.Context) error {
	pr, err := accountPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := p.users.UserByID(ctx, pr.ID)
	if err != nil {
		return err
	}
	if !u.HasPassword {
		return p.renderAccountError(c, pr, http.StatusBadRequest, errNoPassword)
	}
	current, next := c.FormValue("current_password"), c.FormValue("new_password")
	if current == "" || next == "" {
		return p.renderAccountError(c, pr, http.StatusBadRequest, "Enter your current password and a new one.")
	}
	err = p.users.CheckCurrentPassword(ctx, pr.ID, current)
	if errors.Is(err, identity.ErrInvalidCredentials) {
		if err := p.audit.Record(ctx, audit.Event{
			Action: "user.password.change", Target: audit.Ref{Type: "user", ID: pr.ID}, Outcome: audit.Failure,
			Details: map[string]string{"reason": "wrong current password"},
		}); err != nil {
			return err
		}
		return p.renderAccountError(c, pr, http.StatusBadRequest, errWrongPassword)
	}
	if err != nil {
		return err
	}
	err = p.passwords.SetPassword(ctx, pr.ID, next)
	if msg, ok := validationMessage(err, "The new password"); ok {
		return p.renderAccountError(c, pr, http.StatusBadRequest, msg)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account?flash="+url.QueryEscape(flashPasswordChanged))
}

// postCreateAPIKey issues a personal key and shows the page with its
// secret, once.
func (p *Pages) postCreateAPIKey(c echo.Context) error {
	pr, err := accountPrincipal(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	if name == "" {
		return p.renderAccountError(c, pr, http.StatusBadRequest, "Give the API key a name.")
	}
	k, secret, err := p.apiKeys.CreateKey(c.Request().Context(), pr.ID, name)
	if msg, ok := validationMessage(err, "The key name"); ok {
		return p.renderAccountError(c, pr, http.StatusBadRequest, msg)
	}
	if err != nil {
		return err
	}
	v, err := p.accountPage(c, pr)
	if err != nil {
		return err
	}
	v.Flash = ""
	v.NewKey = &accountNewKeyView{Name: k.Name, Secret: secret}
	c.Response().Header().Set("Cache-Control", "no-store")
	return p.render.HTML(c, http.StatusOK, tmplAccount, v)
}

// postRevokeAPIKey revokes one of the user's own keys; another user's key
// is not found.
func (p *Pages) postRevokeAPIKey(c echo.Context) error {
	pr, err := accountPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	keys, err := p.apiKeys.ListKeys(ctx, pr.ID)
	if err != nil {
		return err
	}
	own := false
	for _, k := range keys {
		own = own || k.ID == id
	}
	if !own {
		return p.renderAccountError(c, pr, http.StatusNotFound, "That API key does not exist or was already revoked.")
	}
	if err := p.apiKeys.RevokeKey(ctx, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account?flash="+url.QueryEscape(flashKeyRevoked))
}

// validationMessage turns a *validation.Error into a sentence for the page.
func validationMessage(err error, subject string) (string, bool) {
	var ve *validation.Error
	if !errors.As(err, &ve) {
		return "", false
	}
	return subject + " " + ve.Message + ".", true
}

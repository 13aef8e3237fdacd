package signin

import (
	"errors"
	"net/http"
	"net/url"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/passkeys"
	"github.com/gatehouse/gatehouse/web"
)

// Re-authentication (CONTRACT "Passkeys and re-authentication"): a
// sensitive action in a browser session needs a proof of identity younger
// than GATEHOUSE_REAUTH_MAX_AGE. The kernel's Routes.Sensitive middleware
// asks the pages (httpserver.Reauthenticator): Challenge shows "Confirm it's
// you" with the original form's fields hidden in a form that posts back to
// the same URL, and Confirm checks the proof that post carries. So a plain
// form post survives the detour and is carried out once, after the proof.

// reauthField is the password field of the "Confirm it's you" form. The
// original action never sees it: Confirm removes it.
const reauthField = "reauth_password"

var _ httpserver.Reauthenticator = (*Pages)(nil)

type hiddenField struct{ Name, Value string }

type reauthView struct {
	web.Page
	Action string
	Fields []hiddenField
	Back   string
	// Passkey: the user has one, so the page asks for it ("Use passkey");
	// once it is proven, the script posts the original form, now fresh.
	Passkey                     bool
	PasskeyBegin, PasskeyFinish string
}

// Paths of the passkey proof on "Confirm it's you".
const (
	pathConfirmPasskeyBegin  = "/account/confirm/passkey/begin"
	pathConfirmPasskeyFinish = "/account/confirm/passkey/finish"
)

// Challenge renders "Confirm it's you" for the request in c.
func (p *Pages) Challenge(c echo.Context) error {
	return p.renderReauth(c, http.StatusUnauthorized, "")
}

func (p *Pages) renderReauth(c echo.Context, status int, msg string) error {
	r := c.Request()
	v := reauthView{
		Page:   web.Page{Title: "Confirm it's you", CSRF: httpserver.CSRFToken(c), Error: msg},
		Action: r.URL.RequestURI(),
		Back:   "/account",
	}
	if form, err := c.FormParams(); err == nil {
		for name, values := range form {
			if name == reauthField || name == "csrf_token" {
				continue
			}
			for _, val := range values {
				v.Fields = append(v.Fields, hiddenField{Name: name, Value: val})
			}
		}
		sort.Slice(v.Fields, func(i, j int) bool { return v.Fields[i].Name < v.Fields[j].Name })
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Path != "" && ref.Host == r.Host {
		v.Back = ref.RequestURI()
	}
	if pr, ok := principal.From(r.Context()); ok {
		has, err := p.userHasPasskey(c, pr.ID)
		if err != nil {
			return err
		}
		v.Passkey, v.PasskeyBegin, v.PasskeyFinish = has, pathConfirmPasskeyBegin, pathConfirmPasskeyFinish
	}
	return p.render.HTML(c, status, tmplReauth, v)
}

// Confirm checks the password the "Confirm it's you" form posted. On success
// the session's auth_time becomes now (with "pwd" among its methods) and the
// request goes on without the password field.
func (p *Pages) Confirm(c echo.Context) (confirmed, answered bool, err error) {
	r := c.Request()
	password := r.FormValue(reauthField)
	if password == "" {
		return false, false, nil
	}
	r.Form.Del(reauthField)
	r.PostForm.Del(reauthField)
	ctx := r.Context()
	pr, _ := principal.From(ctx)
	err = p.users.CheckCurrentPassword(ctx, pr.ID, password)
	if errors.Is(err, identity.ErrInvalidCredentials) {
		if err := p.audit.Record(ctx, audit.Event{
			Action: "reauth.failure", Target: audit.Ref{Type: "user", ID: pr.ID}, Outcome: audit.Failure,
		}); err != nil {
			return false, true, err
		}
		return false, true, p.renderReauth(c, http.StatusUnauthorized, "That password is not right. Try again.")
	}
	if err != nil {
		return false, true, err
	}
	if _, err := p.sessions.addMethods(ctx, pr.CredentialID, []string{flow.AMRPassword}, ""); err != nil {
		return false, true, err
	}
	return true, false, p.audit.Record(ctx, audit.Event{
		Action: "reauth.success", Target: audit.Ref{Type: "user", ID: pr.ID}, Outcome: audit.Success,
	})
}

// getConfirm shows "Confirm it's you" on its own, for a page whose script
// was told re-authentication is required: the proof posts to postConfirm,
// which sends the browser back to return_to, now fresh.
func (p *Pages) getConfirm(c echo.Context) error {
	return p.renderReauth(c, http.StatusOK, "")
}

// postConfirm runs behind Routes.Sensitive, so it is reached only with a
// fresh proof.
func (p *Pages) postConfirm(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, safeReturnTo(c.FormValue("return_to")))
}

// postConfirmPasskeyBegin starts a ceremony only the signed-in user's
// passkeys may answer.
func (p *Pages) postConfirmPasskeyBegin(c echo.Context) error {
	pr, _ := principal.From(c.Request().Context())
	cer, err := p.passkeys.BeginReauth(c.Request().Context(), pr.ID)
	if errors.Is(err, passkeys.ErrNotFound) {
		return httpserver.WriteProblem(c, http.StatusBadRequest, "You have no passkey; confirm with your password.")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, cer)
}

// postConfirmPasskeyFinish verifies the signed-in user's passkey and records
// the fresh proof (amr hwk and user) in the session; the page's script then
// posts the original form.
func (p *Pages) postConfirmPasskeyFinish(c echo.Context) error {
	ctx := c.Request().Context()
	pr, _ := principal.From(ctx)
	res, err := p.passkeys.FinishLogin(ctx, c.FormValue("handle"), []byte(c.FormValue("credential")))
	switch {
	case passkeyRefused(err):
		return httpserver.WriteProblem(c, http.StatusBadRequest, passkeys.Message(err))
	case err != nil:
		return err
	case res.UserID != pr.ID || !res.UserVerified:
		return httpserver.WriteProblem(c, http.StatusBadRequest, "That passkey is not yours; use your own.")
	}
	if _, err := p.sessions.addMethods(ctx, pr.CredentialID, []string{flow.AMRHardware, flow.AMRUser}, ""); err != nil {
		return err
	}
	if err := p.audit.Record(ctx, audit.Event{
		Action: "reauth.success", Target: audit.Ref{Type: "user", ID: pr.ID}, Outcome: audit.Success,
		Details: map[string]string{"method": "passkey"},
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"confirmed": true})
}

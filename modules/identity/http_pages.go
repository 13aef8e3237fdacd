package identity

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/web"
)

// SetupPage is the first-start page's template.
const SetupPage = "identity/setup.html"

// SetupView is the data of identity/setup.html. Form is false once the page
// can only show a message (setup done, bad link) or the success note.
type SetupView struct {
	web.Page
	Token string
	Email string
	Name  string
	Form  bool
	Done  bool
}

func (m *identityModule) mountPages(g *echo.Group) {
	csrf := httpserver.CSRF(m.opts.SecureCookies)
	g.GET("/setup", m.setupForm, csrf)
	g.POST("/setup", m.setupSubmit, csrf)
}

func (m *identityModule) renderSetup(c echo.Context, status int, v SetupView) error {
	v.Title = "Set up Gatehouse"
	v.CSRF = httpserver.CSRFToken(c)
	return m.opts.Pages.HTML(c, status, SetupPage, v)
}

// setupState turns a token check into the page to show when it fails.
func (m *identityModule) setupFailure(c echo.Context, err error) error {
	switch {
	case errors.Is(err, ErrSetupDone):
		return m.renderSetup(c, http.StatusGone, SetupView{Page: web.Page{Error: "Setup is already complete: an administrator exists. Sign in instead."}})
	case errors.Is(err, ErrSetupToken):
		return m.renderSetup(c, http.StatusBadRequest, SetupView{Page: web.Page{Error: "This setup link is invalid, expired or already used. Restart Gatehouse to print a new one in its log."}})
	}
	m.log.ErrorContext(c.Request().Context(), "setup page", slog.String("error", err.Error()))
	return echo.NewHTTPError(http.StatusInternalServerError).SetInternal(err)
}

func (m *identityModule) setupForm(c echo.Context) error {
	token := c.QueryParam("token")
	if err := m.svc.CheckSetupToken(c.Request().Context(), token); err != nil {
		return m.setupFailure(c, err)
	}
	return m.renderSetup(c, http.StatusOK, SetupView{Token: token, Form: true})
}

func (m *identityModule) setupSubmit(c echo.Context) error {
	token := c.FormValue("token")
	in := NewUser{Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password")}
	ctx := principal.With(c.Request().Context(), principal.SystemPrincipal)
	u, err := m.svc.CompleteSetup(ctx, token, in)
	var ve *validation.Error
	switch {
	case err == nil:
		m.log.InfoContext(ctx, "first admin created", slog.String("user_id", u.ID))
		return m.renderSetup(c, http.StatusOK, SetupView{Done: true, Email: u.Email,
			Page: web.Page{Flash: "Administrator " + u.Email + " created. You can sign in now."}})
	case errors.As(err, &ve):
		return m.renderSetup(c, http.StatusUnprocessableEntity, SetupView{Token: token, Form: true, Email: in.Email, Name: in.Name,
			Page: web.Page{Error: fieldLabel(ve.Field) + " " + ve.Message + "."}})
	case errors.Is(err, ErrSetupDone), errors.Is(err, ErrSetupToken):
		return m.setupFailure(c, err)
	}
	return m.setupFailure(c, err)
}

func fieldLabel(f string) string {
	switch f {
	case "email":
		return "Email"
	case "name":
		return "Name"
	case "password":
		return "Password"
	}
	return f
}

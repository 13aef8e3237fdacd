package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/web"
)

// view is embedded in every console page's data: the layout's Page and the
// navigation, which lists only the sections the user may read.
type view struct {
	web.Page
	Nav []navLink
}

// navLink is one entry of the console navigation (CONTRACT "Browser pages").
type navLink struct {
	Label   string
	Href    string
	Current bool
}

// section is a console area: its link and the permission that reveals it
// (the one its list page requires, as the API's list operation does).
type section struct {
	label, href string
	res         principal.Resource
}

var sections = []section{
	{"Overview", "/admin/overview", principal.Resource{Type: "users", ID: "*"}},
	{"Users", "/admin/users", principal.Resource{Type: "users", ID: "*"}},
	{"Roles", "/admin/roles", principal.Resource{Type: "roles", ID: "*"}},
	{"Clients", "/admin/clients", principal.Resource{Type: "clients", ID: "*"}},
	{"API keys", "/admin/api-keys", principal.Resource{Type: "api-keys", ID: "*"}},
	{"Service accounts", "/admin/service-accounts", principal.Resource{Type: "users", ID: "*"}},
	{"Policies", "/admin/policies", principal.Resource{Type: "policies"}},
	{"Audit log", "/admin/audit", principal.Resource{Type: "audit-events", ID: "*"}},
	{"Signing keys", "/admin/signing-keys", principal.Resource{Type: "signing-keys", ID: "*"}},
}

// newView builds the layout data for the page titled title; current is the
// href of the section shown. Flash messages come from the fixed set below,
// never from text in the URL.
func (m *Module) newView(c echo.Context, title, current string) (view, error) {
	ctx := c.Request().Context()
	p, _ := principal.From(ctx)
	v := view{Page: web.Page{Title: title, CSRF: httpserver.CSRFToken(c), Flash: flashes[c.QueryParam("flash")]}}
	if u, err := m.d.Users.UserByID(ctx, p.ID); err == nil {
		v.User = u.Name
		if v.User == "" {
			v.User = u.Email
		}
	}
	for _, s := range sections {
		ok, err := m.d.Authorizer.Can(ctx, p, s.res, "read")
		if err != nil {
			return view{}, err
		}
		if ok {
			v.Nav = append(v.Nav, navLink{Label: s.label, Href: s.href, Current: s.href == current})
		}
	}
	return v, nil
}

// flashes are the success messages a redirect may name (?flash=key).
var flashes = map[string]string{
	"created":         "The user was created.",
	"role-assigned":   "The role was assigned.",
	"role-removed":    "The role was removed.",
	"disabled":        "The user was disabled; their sessions, tokens and API keys stopped working.",
	"enabled":         "The user was enabled.",
	"deleted":         "The user was deleted.",
	"client-deleted":  "The client was deleted.",
	"client-saved":    "The client was saved.",
	"key-revoked":     "The API key was revoked.",
	"session-ended":   "The session was ended; that browser must sign in again.",
	"sessions-ended":  "All of the user's sessions were ended.",
	"passkey-removed": "The passkey was removed.",
	"role-created":    "The role was created.",
	"role-deleted":    "The role was deleted.",
	"policy-created":  "The policy was created.",
	"policy-deleted":  "The policy was deleted.",
	"policy-updated":  "The policy was saved.",
	"profile-saved":   "The profile was saved.",
	"email-changed":   "The email was changed; the new address is not verified yet.",
	"password-set":    "The password was set; the user's sessions and refresh tokens ended.",
	"keys-rotated":    "New signing keys are in use; the old ones stay published until their tokens expire.",
	"role-saved":      "The role was saved.",
	"parent-added":    "The role now inherits from the chosen role.",
	"parent-removed":  "The role no longer inherits from that role.",
	"sa-created":      "The service account was created. Create an API key for it below.",
	"invitation-sent": "The invitation was sent to the user's email; an earlier invitation link no longer works.",
	"reset-sent":      "A password reset link (valid 30 minutes) is on its way to the user's email; at most 3 are sent per hour.",
}

// redirect answers a successful form post (Post/Redirect/Get).
func redirect(c echo.Context, path, flash string) error {
	if flash != "" {
		path += "?flash=" + url.QueryEscape(flash)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// failure is an error the user can act on, shown on the page with its
// status; anything else is an internal error (logged, 500).
type failure struct {
	status int
	msg    string
}

func (f *failure) Error() string { return f.msg }

func forbidden(format string, args ...any) error {
	return &failure{status: http.StatusForbidden, msg: fmt.Sprintf(format, args...)}
}

// require answers a 403 failure unless the signed-in user may perform
// action on res: the same question the API handler asks.
func (m *Module) require(ctx context.Context, res principal.Resource, action string) error {
	p, _ := principal.From(ctx)
	ok, err := m.d.Authorizer.Can(ctx, p, res, action)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden("You may not %s %s.", action, res.String())
	}
	return nil
}

// explain turns an error into what the page shows: a status and a readable
// sentence. ok is false for an unexpected error.
func explain(err error) (status int, msg string, ok bool) {
	var f *failure
	var esc *authz.EscalationError
	if errors.As(err, &f) {
		return f.status, f.msg, true
	}
	if ve, isVE := validation.As(err); isVE {
		if ve.Parse {
			return http.StatusBadRequest, ve.Error(), true
		}
		return http.StatusUnprocessableEntity, ve.Error(), true
	}
	switch {
	case errors.As(err, &esc):
		return http.StatusForbidden, esc.Error(), true
	case errors.Is(err, page.ErrBadToken), errors.Is(err, page.ErrBadSize):
		return http.StatusBadRequest, err.Error(), true
	case errors.Is(err, identity.ErrNotFound):
		return http.StatusNotFound, "No such user.", true
	case errors.Is(err, identity.ErrRoleNotFound):
		return http.StatusUnprocessableEntity, "No such role.", true
	case errors.Is(err, identity.ErrEmailTaken):
		return http.StatusConflict, "A user with this email already exists.", true
	case errors.Is(err, identity.ErrUsernameTaken):
		return http.StatusConflict, "A user with this username already exists.", true
	case errors.Is(err, identity.ErrRoleExists):
		return http.StatusConflict, "A role with this name already exists.", true
	case errors.Is(err, identity.ErrBuiltInRole):
		return http.StatusConflict, "Built-in roles (admin, user-admin, auditor) cannot be deleted.", true
	case errors.Is(err, identity.ErrLastAdmin):
		return http.StatusConflict, "This is the last active admin: it cannot be disabled, deleted or lose the admin role.", true
	case errors.Is(err, identity.ErrMachinePassword):
		return http.StatusUnprocessableEntity, "Service accounts cannot have a password.", true
	case errors.Is(err, clients.ErrNotFound):
		return http.StatusNotFound, "No such client.", true
	case errors.Is(err, apikeys.ErrNotFound):
		return http.StatusNotFound, "No such API key.", true
	case errors.Is(err, apikeys.ErrOwnerNotFound):
		return http.StatusUnprocessableEntity, "No such user.", true
	case errors.Is(err, apikeys.ErrOwnerDisabled):
		return http.StatusUnprocessableEntity, "The user is disabled.", true
	case errors.Is(err, apikeys.ErrScopeEscalation):
		return http.StatusForbidden, "A key cannot have scopes beyond your own.", true
	case errors.Is(err, authz.ErrNotFound):
		return http.StatusNotFound, "No such policy.", true
	case errors.Is(err, authz.ErrBuiltIn):
		return http.StatusConflict, "Built-in rules cannot be changed.", true
	case errors.Is(err, authz.ErrConflict):
		return http.StatusConflict, err.Error(), true
	}
	return 0, "", false
}

// pageError is what a GET handler returns for err: the error page with a
// readable message, or the internal error for the server's handler.
func (m *Module) pageError(c echo.Context, err error) error {
	if status, msg, ok := explain(err); ok {
		return echo.NewHTTPError(status, msg)
	}
	m.log.ErrorContext(c.Request().Context(), "admin console", slog.String("error", err.Error()))
	return err
}

// pageWithError carries an error message into a render helper.
func pageWithError(msg string) web.Page { return web.Page{Error: msg} }

// render writes a console page.
func (m *Module) render(c echo.Context, status int, name string, data any) error {
	return m.d.Pages.HTML(c, status, name, data)
}

// signedIn is the console's caller.
func signedIn(c echo.Context) principal.Principal {
	p, _ := principal.From(c.Request().Context())
	return p
}

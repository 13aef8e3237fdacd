package passkeys

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// AccountPage is where the form posts of this file send the browser back.
const AccountPage = "/account"

// registerAccount mounts the JSON endpoints the browser script calls and
// the plain form posts of the account page, on the /account group (which
// requires a session and a CSRF token; the token goes in the form field
// csrf_token, so the script posts application/x-www-form-urlencoded):
//
//	POST /account/passkeys/register/begin   → {"options": {"publicKey": …}, "handle": "…"}
//	POST /account/passkeys/register/finish  handle, credential (the
//	     PublicKeyCredential's toJSON(), as a JSON string), name (optional)
//	     → {"passkey": {…}, "redirect": "/account"}
//	POST /account/passkeys/:id/rename       name → 303 /account, or JSON
//	POST /account/passkeys/:id/delete       → 303 /account, or JSON
//
// A JSON body ({"handle", "credential", "name"}) is accepted too, for
// clients that pass CSRF by Sec-Fetch-Site alone.
//
// Adding and removing a passkey are sensitive (CONTRACT "Re-authentication"):
// sensitive, the kernel's Routes.Sensitive, asks a session without a recent
// proof of identity to confirm it first.
func registerAccount(g *echo.Group, sensitive echo.MiddlewareFunc, svc *Service) {
	h := accountHandlers{svc: svc}
	g.POST("/passkeys/register/begin", h.beginRegistration, sensitive)
	g.POST("/passkeys/register/finish", h.finishRegistration, sensitive)
	g.POST("/passkeys/:id/rename", h.rename)
	g.POST("/passkeys/:id/delete", h.remove, sensitive)
}

type accountHandlers struct{ svc *Service }

// PasskeyJSON is a passkey in the account endpoints' answers.
type PasskeyJSON struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	AAGUID         string     `json:"aaguid,omitempty"`
	BackupEligible bool       `json:"backup_eligible"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
}

func toJSON(p Passkey) PasskeyJSON {
	return PasskeyJSON{
		ID: p.ID, Name: p.Name, AAGUID: p.AAGUID, BackupEligible: p.BackupEligible,
		CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt,
	}
}

// sessionUser is the signed-in user of an account route.
func sessionUser(c echo.Context) (string, error) {
	p, ok := principal.From(c.Request().Context())
	if !ok || p.Via != principal.ViaSession || !p.IsUser() {
		return "", echo.NewHTTPError(http.StatusUnauthorized, "sign in to manage your passkeys")
	}
	return p.ID, nil
}

func (h accountHandlers) beginRegistration(c echo.Context) error {
	uid, err := sessionUser(c)
	if err != nil {
		return err
	}
	cer, err := h.svc.BeginRegistration(c.Request().Context(), uid)
	if err != nil {
		return httpError(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, cer)
}

// finishInput is the finish request in either encoding.
type finishInput struct {
	Handle     string          `json:"handle"`
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

func readFinish(c echo.Context) (finishInput, error) {
	var in finishInput
	req := c.Request()
	if strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
		body, err := io.ReadAll(io.LimitReader(req.Body, 2*MaxResponseBytes+1))
		if err != nil || len(body) > 2*MaxResponseBytes {
			return in, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the passkey response is too large")
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return in, echo.NewHTTPError(http.StatusBadRequest, "the request is not valid JSON")
		}
		return in, nil
	}
	in.Handle, in.Name = c.FormValue("handle"), c.FormValue("name")
	in.Credential = json.RawMessage(c.FormValue("credential"))
	return in, nil
}

func (h accountHandlers) finishRegistration(c echo.Context) error {
	uid, err := sessionUser(c)
	if err != nil {
		return err
	}
	in, err := readFinish(c)
	if err != nil {
		return err
	}
	pk, err := h.svc.FinishRegistration(c.Request().Context(), uid, in.Handle, in.Name, in.Credential)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"passkey": toJSON(pk), "redirect": AccountPage})
}

func (h accountHandlers) rename(c echo.Context) error {
	uid, err := sessionUser(c)
	if err != nil {
		return err
	}
	pk, err := h.svc.Rename(c.Request().Context(), uid, c.Param("id"), c.FormValue("name"))
	if err != nil {
		return httpError(err)
	}
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]any{"passkey": toJSON(pk), "redirect": AccountPage})
	}
	return c.Redirect(http.StatusSeeOther, AccountPage)
}

func (h accountHandlers) remove(c echo.Context) error {
	uid, err := sessionUser(c)
	if err != nil {
		return err
	}
	if err := h.svc.Remove(c.Request().Context(), uid, c.Param("id")); err != nil {
		return httpError(err)
	}
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]any{"redirect": AccountPage})
	}
	return c.Redirect(http.StatusSeeOther, AccountPage)
}

func wantsJSON(c echo.Context) bool {
	a := c.Request().Header.Get(echo.HeaderAccept)
	return strings.Contains(a, "json") && !strings.Contains(a, "text/html")
}

// httpError maps the module's errors to statuses with a message fit for a
// page; anything unknown stays a 500 (logged, not shown).
func httpError(err error) error {
	_, invalid := validation.As(err)
	switch {
	case invalid:
		return echo.NewHTTPError(http.StatusUnprocessableEntity, Message(err))
	case errors.Is(err, ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, Message(err))
	case errors.Is(err, ErrUserDisabled):
		return echo.NewHTTPError(http.StatusForbidden, Message(err))
	case errors.Is(err, ErrDuplicate):
		return echo.NewHTTPError(http.StatusConflict, Message(err))
	case errors.Is(err, ErrChallengeUnknown), errors.Is(err, ErrChallengeExpired),
		errors.Is(err, ErrVerification), errors.Is(err, ErrUnknownCredential), errors.Is(err, ErrCloned):
		return echo.NewHTTPError(http.StatusBadRequest, Message(err))
	}
	return err
}

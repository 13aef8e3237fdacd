package signin

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/web"
)

// logoutView is the data of oidc/logout.html and oidc/signed_out.html.
type logoutView struct {
	web.Page
	SignedIn bool
	// ReturnURL is the app's post_logout_redirect_uri as the provider passed
	// it; ReturnHost is shown so the user sees where the link goes.
	ReturnURL  string
	ReturnHost string
}

// logoutReturn reads post_logout_redirect_uri. The provider checked it
// against the client's registration before sending the browser here, but
// the query can be forged, so it is only offered as a visible link (with
// its host shown), never followed automatically.
func logoutReturn(raw string) (string, string) {
	if raw == "" || len(raw) > 2048 {
		return "", ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", ""
	}
	return u.String(), u.Host
}

// getLogout asks before signing out: the provider sends end_session
// requests without an id_token_hint here (RP-Initiated Logout 1.0 §2), and a
// GET must not end a session on its own (a link or image could trigger it).
func (p *Pages) getLogout(c echo.Context) error {
	_, ok, err := p.currentSession(c)
	if err != nil {
		return err
	}
	v := logoutView{Page: web.Page{Title: "Signed out"}}
	v.ReturnURL, v.ReturnHost = logoutReturn(c.QueryParam("post_logout_redirect_uri"))
	if !ok {
		return p.render.HTML(c, http.StatusOK, tmplSignedOut, v)
	}
	v.Page = web.Page{Title: "Sign out", CSRF: httpserver.CSRFToken(c)}
	v.SignedIn = true
	return p.render.HTML(c, http.StatusOK, tmplLogout, v)
}

// postLogout ends the browser's session, clears the cookie and says so.
func (p *Pages) postLogout(c echo.Context) error {
	sess, ok, err := p.currentSession(c)
	if err != nil {
		return err
	}
	if ok {
		ctx := c.Request().Context()
		err := database.Transact(ctx, p.db, func(ctx context.Context) error {
			if err := p.sessions.delete(ctx, sess.ID); err != nil {
				return err
			}
			return p.audit.Record(ctx, audit.Event{
				Action: "logout", Actor: audit.Ref{Type: "user", ID: sess.UserID},
				Target: audit.Ref{Type: "session", ID: sess.ID}, Outcome: audit.Success,
			})
		})
		if err != nil {
			return err
		}
	}
	p.clearCookie(c)
	v := logoutView{Page: web.Page{Title: "Signed out"}}
	v.ReturnURL, v.ReturnHost = logoutReturn(c.FormValue("post_logout_redirect_uri"))
	return p.render.HTML(c, http.StatusOK, tmplSignedOut, v)
}

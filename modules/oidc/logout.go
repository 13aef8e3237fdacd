package oidc

import (
	"context"
	"net/http"

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
}

// getLogout asks before signing out: the provider sends end_session
// requests without an id_token_hint here (RP-Initiated Logout 1.0 §2), and a
// GET must not end a session on its own (a link or image could trigger it).
func (p *pages) getLogout(c echo.Context) error {
	_, ok, err := p.currentSession(c)
	if err != nil {
		return err
	}
	if !ok {
		return p.render.HTML(c, http.StatusOK, tmplSignedOut, logoutView{Page: web.Page{Title: "Signed out"}})
	}
	return p.render.HTML(c, http.StatusOK, tmplLogout, logoutView{
		Page: web.Page{Title: "Sign out", CSRF: httpserver.CSRFToken(c)}, SignedIn: true,
	})
}

// postLogout ends the browser's session, clears the cookie and says so.
func (p *pages) postLogout(c echo.Context) error {
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
	return p.render.HTML(c, http.StatusOK, tmplSignedOut, logoutView{
		Page: web.Page{Title: "Signed out", Flash: "You are signed out."},
	})
}

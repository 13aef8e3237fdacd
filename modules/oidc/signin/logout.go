package signin

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
//
// Neither page shows a post_logout_redirect_uri. /logout is where the
// provider sends an end_session request that carried no valid
// id_token_hint, and anyone can craft a link to /logout with any URI, so a
// URI in its query (or in the form post) is validated by nobody; showing
// it, even as a link the user must click, would lend Gatehouse's name to
// it (CONTRACT: "No Gatehouse page links or redirects to a URI that was
// not registered for a client"). An app that wants its users back sends
// the id_token_hint, and the provider redirects to the registered URI.
type logoutView struct {
	web.Page
	SignedIn bool
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
	return p.render.HTML(c, http.StatusOK, tmplSignedOut, logoutView{Page: web.Page{Title: "Signed out"}})
}

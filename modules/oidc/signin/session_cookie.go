package signin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// AuthenticateSession implements httpserver.SessionAuthenticator: the
// session cookie becomes a user principal whose CredentialID is the session
// id. No cookie, an unknown or an expired session is ErrUnauthenticated.
func (p *Pages) AuthenticateSession(r *http.Request) (principal.Principal, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return principal.Principal{}, fmt.Errorf("%w: no session cookie", httpserver.ErrUnauthenticated)
	}
	sess, err := p.sessions.byToken(r.Context(), ck.Value)
	if errors.Is(err, errSessionNotFound) {
		return principal.Principal{}, fmt.Errorf("%w: %w", httpserver.ErrUnauthenticated, err)
	}
	if err != nil {
		return principal.Principal{}, err
	}
	return principal.Principal{Kind: principal.User, ID: sess.UserID, Via: principal.ViaSession, CredentialID: sess.ID,
		AuthTime: sess.AuthTime}, nil
}

// currentSession returns the browser's live session, if any.
func (p *Pages) currentSession(c echo.Context) (session, bool, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return session{}, false, nil
	}
	sess, err := p.sessions.byToken(c.Request().Context(), ck.Value)
	if errors.Is(err, errSessionNotFound) {
		p.clearCookie(c)
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, err
	}
	return sess, true, nil
}

func (p *Pages) setCookie(c echo.Context, token string, expires time.Time) {
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		Expires: expires, MaxAge: max(int(expires.Sub(p.now())/time.Second), 1),
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (p *Pages) clearCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode,
	})
}

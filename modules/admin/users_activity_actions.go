package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/oidc/signin"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

const tmplUserConfirm = "admin/user_confirm.html"

// confirmView is the data of admin/user_confirm.html: the question asked
// before a destructive action on a user's page, and the form that does it.
type confirmView struct {
	view
	ID, Question, Action, Button string
}

// mountUserActivity adds the user's page actions: end a session or all of
// them, remove a passkey, revoke an API key. Each is a GET that asks and a
// POST that does it.
func (m *Module) mountUserActivity(g *echo.Group, sensitive echo.MiddlewareFunc) {
	if m.d.Sessions != nil {
		g.GET("/users/:id/sessions/end-all", m.getEndAllSessions)
		g.POST("/users/:id/sessions/end-all", m.postEndAllSessions, sensitive)
		g.GET("/users/:id/sessions/:sid/end", m.getEndSession)
		g.POST("/users/:id/sessions/:sid/end", m.postEndSession, sensitive)
	}
	if m.d.Passkeys != nil {
		g.GET("/users/:id/passkeys/:pid/remove", m.getRemovePasskey)
		g.POST("/users/:id/passkeys/:pid/remove", m.postRemovePasskey, sensitive)
	}
	if m.d.APIKeys != nil {
		// Not sensitive, as the API keys page's "Revoke".
		g.GET("/users/:id/api-keys/:kid/revoke", m.getRevokeUserKey)
		g.POST("/users/:id/api-keys/:kid/revoke", m.postRevokeUserKey)
	}
}

func userPath(id string) string { return "/admin/users/" + url.PathEscape(id) }

func notFound(msg string) error { return &failure{status: http.StatusNotFound, msg: msg} }

// guardChange is what changing another user's account asks (as postStatus):
// users:update on the user, and no escalation.
func (m *Module) guardChange(c echo.Context, id string) error {
	if err := m.require(c.Request().Context(), principal.Resource{Type: "users", ID: id}, "update"); err != nil {
		return err
	}
	return m.guardTarget(c, id)
}

// confirm renders the question page, after the same checks as the post.
func (m *Module) confirm(c echo.Context, title string, v confirmView) error {
	var err error
	if v.view, err = m.newView(c, title, "/admin/users"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, http.StatusOK, tmplUserConfirm, v)
}

func (m *Module) getEndSession(c echo.Context) error {
	id, sid := c.Param("id"), c.Param("sid")
	if err := m.guardChange(c, id); err != nil {
		return m.pageError(c, err)
	}
	list, err := m.d.Sessions.UserSessions(c.Request().Context(), id)
	if err != nil {
		return m.pageError(c, err)
	}
	for _, s := range list {
		if s.ID == sid {
			q := fmt.Sprintf("End the session started %s from %s (%s)? The browser must sign in again, and apps it signed in to lose their refresh tokens.",
				s.CreatedAt.UTC().Format(timeFormat), s.IP, s.UserAgent)
			return m.confirm(c, "End session", confirmView{ID: id, Question: q,
				Action: userPath(id) + "/sessions/" + url.PathEscape(sid) + "/end", Button: "End session"})
		}
	}
	return m.pageError(c, notFound("That session has already ended."))
}

// postEndSession signs the user out of one session. Sensitive.
func (m *Module) postEndSession(c echo.Context) error {
	id := c.Param("id")
	if err := m.guardChange(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	err := m.d.Sessions.EndUserSession(c.Request().Context(), id, c.Param("sid"))
	if errors.Is(err, signin.ErrSessionNotFound) {
		err = notFound("That session has already ended.")
	}
	if err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, userPath(id), "session-ended")
}

func (m *Module) getEndAllSessions(c echo.Context) error {
	id := c.Param("id")
	if err := m.guardChange(c, id); err != nil {
		return m.pageError(c, err)
	}
	return m.confirm(c, "End all sessions", confirmView{ID: id,
		Question: "End every session of this user? Each of their browsers must sign in again, and every app they signed in to loses its refresh tokens.",
		Action:   userPath(id) + "/sessions/end-all", Button: "End all sessions"})
}

// postEndAllSessions signs the user out everywhere. Sensitive.
func (m *Module) postEndAllSessions(c echo.Context) error {
	id := c.Param("id")
	if err := m.guardChange(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	if _, err := m.d.Sessions.EndUserSessions(c.Request().Context(), id); err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, userPath(id), "sessions-ended")
}

func (m *Module) getRemovePasskey(c echo.Context) error {
	id, pid := c.Param("id"), c.Param("pid")
	if err := m.guardChange(c, id); err != nil {
		return m.pageError(c, err)
	}
	list, err := m.d.Passkeys.List(c.Request().Context(), id)
	if err != nil {
		return m.pageError(c, err)
	}
	for _, k := range list {
		if k.ID == pid {
			return m.confirm(c, "Remove passkey", confirmView{ID: id,
				Question: fmt.Sprintf("Remove the passkey %q? The user can no longer sign in with it; they are told by mail.", k.Name),
				Action:   userPath(id) + "/passkeys/" + url.PathEscape(pid) + "/remove", Button: "Remove passkey"})
		}
	}
	return m.pageError(c, notFound("No such passkey."))
}

// postRemovePasskey removes one of the user's passkeys (audited
// passkey.remove, as on /account). Sensitive.
func (m *Module) postRemovePasskey(c echo.Context) error {
	id := c.Param("id")
	if err := m.guardChange(c, id); err != nil {
		return m.actionFailed(c, err)
	}
	err := m.d.Passkeys.Remove(c.Request().Context(), id, c.Param("pid"))
	if errors.Is(err, passkeys.ErrNotFound) {
		err = notFound("No such passkey.")
	}
	if err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, userPath(id), "passkey-removed")
}

// userKey is the user's key of the path, which the caller may revoke
// (api-keys:delete on it, as DELETE /api/v1/api-keys/{id}).
func (m *Module) userKey(c echo.Context) (apikeys.Key, error) {
	ctx := c.Request().Context()
	k, err := m.d.APIKeys.Get(ctx, c.Param("kid"))
	if err != nil {
		return k, err
	}
	if k.UserID != c.Param("id") {
		return k, notFound("No such API key.")
	}
	return k, m.require(ctx, principal.Resource{Type: "api-keys", ID: k.ID, OwnerID: k.UserID}, "delete")
}

func (m *Module) getRevokeUserKey(c echo.Context) error {
	k, err := m.userKey(c)
	if err != nil {
		return m.pageError(c, err)
	}
	return m.confirm(c, "Revoke API key", confirmView{ID: k.UserID,
		Question: fmt.Sprintf("Revoke the API key %q? Programs using it stop working at once.", k.Name),
		Action:   userPath(k.UserID) + "/api-keys/" + url.PathEscape(k.ID) + "/revoke", Button: "Revoke API key"})
}

// postRevokeUserKey revokes one of the user's API keys (audited as the API
// keys page's "Revoke").
func (m *Module) postRevokeUserKey(c echo.Context) error {
	k, err := m.userKey(c)
	if err == nil {
		_, err = m.d.APIKeys.Revoke(c.Request().Context(), k.ID)
	}
	if err != nil {
		return m.actionFailed(c, err)
	}
	return redirect(c, userPath(k.UserID), "key-revoked")
}

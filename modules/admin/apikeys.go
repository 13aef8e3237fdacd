package admin

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/apikeys"
)

const tmplAPIKeys = "admin/apikeys.html"

// apiKeysView is the data of admin/apikeys.html: one user's keys, the
// create form and, right after creation, the secret (shown once).
type apiKeysView struct {
	view
	UserID, UserLabel string
	Keys              []keyRow
	NextHref          string
	CanCreate         bool
	Secret            string
	KeyName, Scopes   string
}

// keyRow is one API key (never its secret).
type keyRow struct {
	ID, PublicID, Name, Scopes, Created, Expires, LastUsed string
	Revoked, CanRevoke                                     bool
}

func (m *Module) mountAPIKeys(g *echo.Group, sensitive echo.MiddlewareFunc) {
	if m.d.APIKeys == nil {
		return
	}
	g.GET("/api-keys", m.getAPIKeys)
	g.POST("/api-keys", m.postAPIKey, sensitive)
	g.POST("/api-keys/:id/revoke", m.postRevokeKey)
}

func keysRes(owner string) principal.Resource {
	return principal.Resource{Type: "api-keys", ID: "*", OwnerID: owner}
}

// getAPIKeys lists one user's keys (?user=<id>; the caller's own without
// it), with api-keys:read for that owner, as GET /api/v1/api-keys.
func (m *Module) getAPIKeys(c echo.Context) error {
	return m.renderKeys(c, http.StatusOK, apiKeysView{UserID: c.QueryParam("user")})
}

func (m *Module) renderKeys(c echo.Context, status int, v apiKeysView) error {
	ctx := c.Request().Context()
	if v.UserID == "" {
		v.UserID = signedIn(c).ID
	}
	if err := m.require(ctx, keysRes(v.UserID), "read"); err != nil {
		return m.pageError(c, err)
	}
	u, err := m.d.Users.UserByID(ctx, v.UserID)
	if err != nil {
		return m.pageError(c, err)
	}
	v.UserLabel = u.Email
	errMsg := v.Error
	if v.view, err = m.newView(c, "API keys", "/admin/api-keys"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	list, err := m.d.APIKeys.List(ctx, apikeys.Filter{UserID: v.UserID, IncludeRevoked: true, PageToken: c.QueryParam("page_token")})
	if err != nil {
		return m.pageError(c, err)
	}
	for _, k := range list.Items {
		row := keyRow{ID: k.ID, PublicID: k.PublicID, Name: k.Name, Scopes: strings.Join(k.Scopes, " "),
			Created: k.CreatedAt.UTC().Format(timeFormat), Expires: "never", LastUsed: "never", Revoked: k.Revoked()}
		if row.Scopes == "" {
			row.Scopes = "all of the owner's rights"
		}
		if k.ExpiresAt != nil {
			row.Expires = k.ExpiresAt.UTC().Format(timeFormat)
		}
		if k.LastUsedAt != nil {
			row.LastUsed = k.LastUsedAt.UTC().Format(timeFormat)
		}
		if !row.Revoked {
			if row.CanRevoke, err = m.can(c, principal.Resource{Type: "api-keys", ID: k.ID, OwnerID: k.UserID}, "delete"); err != nil {
				return m.pageError(c, err)
			}
		}
		v.Keys = append(v.Keys, row)
	}
	if list.NextPageToken != "" {
		v.NextHref = "/admin/api-keys?" + url.Values{"user": {v.UserID}, "page_token": {list.NextPageToken}}.Encode()
	}
	if v.CanCreate, err = m.can(c, keysRes(v.UserID), "create"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, status, tmplAPIKeys, v)
}

// expiries are the choices of the create form's "Expires" select.
var expiries = map[string]time.Duration{"30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour}

// postAPIKey creates a key for a user (api-keys:create for that owner), as
// POST /api/v1/api-keys, and shows its secret once. Sensitive.
func (m *Module) postAPIKey(c echo.Context) error {
	ctx := c.Request().Context()
	v := apiKeysView{UserID: c.FormValue("user_id"), KeyName: strings.TrimSpace(c.FormValue("name")), Scopes: c.FormValue("scopes")}
	if v.UserID == "" {
		v.UserID = signedIn(c).ID
	}
	if err := m.require(ctx, keysRes(v.UserID), "create"); err != nil {
		return m.pageError(c, err)
	}
	n := apikeys.NewKey{UserID: v.UserID, Name: v.KeyName, Scopes: strings.Fields(v.Scopes)}
	if d, ok := expiries[c.FormValue("expires")]; ok {
		at := time.Now().Add(d)
		n.ExpiresAt = &at
	}
	created, err := m.d.APIKeys.Create(ctx, n)
	if err != nil {
		status, msg, ok := explain(err)
		if !ok {
			return m.pageError(c, err)
		}
		v.Error = msg
		return m.renderKeys(c, status, v)
	}
	v.Secret, v.KeyName, v.Scopes = created.Secret, "", ""
	return m.renderKeys(c, http.StatusCreated, v)
}

// postRevokeKey revokes a key (api-keys:delete on it), as DELETE
// /api/v1/api-keys/{id}.
func (m *Module) postRevokeKey(c echo.Context) error {
	ctx := c.Request().Context()
	k, err := m.d.APIKeys.Get(ctx, c.Param("id"))
	if err != nil {
		return m.pageError(c, err)
	}
	if err := m.require(ctx, principal.Resource{Type: "api-keys", ID: k.ID, OwnerID: k.UserID}, "delete"); err != nil {
		return m.pageError(c, err)
	}
	if _, err := m.d.APIKeys.Revoke(ctx, k.ID); err != nil {
		return m.pageError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/api-keys?"+url.Values{"user": {k.UserID}, "flash": {"key-revoked"}}.Encode())
}

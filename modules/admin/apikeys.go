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
	OwnerName         string
	Machine           bool // the owner is a service account
	CanReadOwner      bool
	Keys              []keyRow
	NextHref          string
	CanCreate         bool
	Secret            string
	KeyName, Scopes   string
	Expires           string // the chosen key of expiries; "" is never
}

// keyRow is one API key (never its secret).
type keyRow struct {
	ID, PublicID, Name, Scopes, Created, CreatedBy, Expires, LastUsed string
	Revoked, Expired, CanRevoke                                       bool
}

// newKeyRow is what every console list shows of key k at now (the API keys
// page adds who created it; CanRevoke is the caller's to decide).
func newKeyRow(k apikeys.Key, now time.Time) keyRow {
	row := keyRow{ID: k.ID, PublicID: k.PublicID, Name: k.Name, Scopes: strings.Join(k.Scopes, " "),
		Expires: "never", LastUsed: "never", Revoked: k.Revoked(), Expired: k.Expired(now)}
	if row.Scopes == "" {
		row.Scopes = "all of the owner's rights"
	}
	if k.ExpiresAt != nil {
		row.Expires = k.ExpiresAt.UTC().Format(timeFormat)
	}
	if k.LastUsedAt != nil {
		row.LastUsed = k.LastUsedAt.UTC().Format(timeFormat)
	}
	return row
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
	return m.renderKeys(c, http.StatusOK, apiKeysView{UserID: c.QueryParam("user"), Expires: "90d"})
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
	v.UserLabel, v.OwnerName, v.Machine = u.Email, u.Name, u.Machine
	if v.CanReadOwner, err = m.can(c, principal.Resource{Type: "users", ID: u.ID}, "read"); err != nil {
		return m.pageError(c, err)
	}
	errMsg := v.Error
	if v.view, err = m.newView(c, "API keys", "/admin/api-keys"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	list, err := m.d.APIKeys.List(ctx, apikeys.Filter{UserID: v.UserID, IncludeRevoked: true, PageToken: c.QueryParam("page_token")})
	if err != nil {
		return m.pageError(c, err)
	}
	now, creators := time.Now(), map[string]string{}
	for _, k := range list.Items {
		row := newKeyRow(k, now)
		row.Created, row.CreatedBy = k.CreatedAt.UTC().Format(timeFormat), m.actorLabel(c, creators, k.CreatedBy)
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
var expiries = map[string]time.Duration{"7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour}

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
	v.Expires = c.FormValue("expires")
	if d, ok := expiries[v.Expires]; ok {
		at := time.Now().Add(d)
		n.ExpiresAt = &at
	} else if v.Expires != "" {
		v.Error = "Choose when the key expires from the list."
		return m.renderKeys(c, http.StatusUnprocessableEntity, v)
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
	v.Secret, v.KeyName, v.Scopes, v.Expires = created.Secret, "", "", "90d"
	return m.renderKeys(c, http.StatusCreated, v)
}

// actorLabel is how the Created by column names a key's creator: the
// user's email when the caller may read that user, else the id as stored
// ("gatehouse" for the command line). seen keeps the answers of one page.
func (m *Module) actorLabel(c echo.Context, seen map[string]string, id string) string {
	if l, ok := seen[id]; ok {
		return l
	}
	seen[id] = id
	if ok, err := m.can(c, principal.Resource{Type: "users", ID: id}, "read"); err == nil && ok {
		if u, err := m.d.Users.UserByID(c.Request().Context(), id); err == nil {
			seen[id] = u.Email
		}
	}
	return seen[id]
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

package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
)

const tmplSigningKeys = "admin/signing_keys.html"

// signingKeysView is the data of admin/signing_keys.html.
type signingKeysView struct {
	view
	Keys      []signingKeyRow
	CanRotate bool
}

// signingKeyRow is one published key.
type signingKeyRow struct {
	KID, Alg, Created, State string
}

var allSigningKeys = principal.Resource{Type: "signing-keys", ID: "*"}

func (m *Module) mountSigningKeys(g *echo.Group, sensitive echo.MiddlewareFunc) {
	if m.d.Keys == nil {
		return
	}
	g.GET("/signing-keys", m.getSigningKeys)
	g.POST("/signing-keys/rotate", m.postRotateKeys, sensitive)
}

// getSigningKeys lists the published keys (signing-keys:read).
func (m *Module) getSigningKeys(c echo.Context) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, allSigningKeys, "read"); err != nil {
		return m.pageError(c, err)
	}
	v := signingKeysView{}
	var err error
	if v.view, err = m.newView(c, "Signing keys", "/admin/signing-keys"); err != nil {
		return m.pageError(c, err)
	}
	keys, err := m.d.Keys.SigningKeys(ctx)
	if err != nil {
		return m.pageError(c, err)
	}
	for _, k := range keys {
		row := signingKeyRow{KID: k.KID, Alg: k.Alg, Created: k.CreatedAt.UTC().Format(timeFormat), State: "active"}
		if k.RetiredAt != nil {
			row.State = "retired " + k.RetiredAt.UTC().Format(timeFormat)
			if k.ExpiresAt != nil {
				row.State += "; published until " + k.ExpiresAt.UTC().Format(timeFormat)
			}
		}
		v.Keys = append(v.Keys, row)
	}
	if v.CanRotate, err = m.can(c, allSigningKeys, "rotate"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, http.StatusOK, tmplSigningKeys, v)
}

// postRotateKeys is POST /api/v1/signing-keys/rotate (signing-keys:rotate).
// Sensitive.
func (m *Module) postRotateKeys(c echo.Context) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, allSigningKeys, "rotate"); err != nil {
		return m.pageError(c, err)
	}
	if err := m.d.Keys.RotateSigningKeys(ctx); err != nil {
		return m.pageError(c, err)
	}
	return redirect(c, "/admin/signing-keys", "keys-rotated")
}

package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

const tmplEditClient = "admin/client_edit.html"

// grantTypes are the grant types a client may be given, in the form's order.
var grantTypes = []struct{ Value, Label string }{
	{clients.GrantAuthorizationCode, "Authorization code (sign-in)"},
	{clients.GrantRefreshToken, "Refresh token"},
	{clients.GrantClientCredentials, "Client credentials (machine to machine)"},
	{clients.GrantTokenExchange, "Token exchange"},
}

// idTokenAlgs are the choices of the "ID token algorithm" select.
var idTokenAlgs = []string{clients.AlgRS256, clients.AlgES256}

// editClientView is the data of admin/client_edit.html: the settings form,
// the ready-to-paste configuration and the secret and delete actions.
type editClientView struct {
	view
	clientForm
	ID                   string
	Public               bool
	Grants               []grantOption
	Algs, AccessAlgs     []algOption
	Config               clientConfig
	CanRotate, CanDelete bool
}

type grantOption struct {
	Value, Label, ID string
	Checked          bool
}

type algOption struct {
	Value    string
	Selected bool
}

// clientConfig is what an application's OpenID Connect settings need.
type clientConfig struct {
	Issuer, Discovery, ClientID, RedirectURI string
}

func (m *Module) clientConfig(cl clients.Client) clientConfig {
	issuer := strings.TrimSuffix(m.opts.Issuer, "/")
	cfg := clientConfig{Issuer: issuer, Discovery: issuer + "/.well-known/openid-configuration", ClientID: cl.ID}
	if len(cl.RedirectURIs) > 0 {
		cfg.RedirectURI = cl.RedirectURIs[0]
	}
	return cfg
}

// getEditClient shows a client's settings (clients:update, as PATCH
// /api/v1/clients/{id}).
func (m *Module) getEditClient(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, clientRes(id), "update"); err != nil {
		return m.pageError(c, err)
	}
	cl, err := m.d.Clients.Get(ctx, id)
	if err != nil {
		return m.pageError(c, err)
	}
	return m.editClientForm(c, http.StatusOK, cl, clientFormOf(cl), "")
}

// editClientForm writes the edit page for cl showing the values in f.
func (m *Module) editClientForm(c echo.Context, status int, cl clients.Client, f clientForm, errMsg string) error {
	v := editClientView{clientForm: f, ID: cl.ID, Public: cl.Public, Config: m.clientConfig(cl)}
	var err error
	if v.view, err = m.newView(c, "Edit client", "/admin/clients"); err != nil {
		return m.pageError(c, err)
	}
	for _, g := range grantTypes {
		v.Grants = append(v.Grants, grantOption{Value: g.Value, Label: g.Label, ID: "grant-" + g.Value, Checked: slices.Contains(f.GrantTypes, g.Value)})
	}
	for _, a := range idTokenAlgs {
		v.Algs = append(v.Algs, algOption{Value: a, Selected: a == f.IDTokenAlg})
	}
	for _, a := range clients.AccessTokenAlgs {
		v.AccessAlgs = append(v.AccessAlgs, algOption{Value: a, Selected: a == f.AccessTokenAlg})
	}
	if !cl.Public {
		if v.CanRotate, err = m.can(c, clientRes(cl.ID), "rotate"); err != nil {
			return m.pageError(c, err)
		}
	}
	if v.CanDelete, err = m.can(c, clientRes(cl.ID), "delete"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	return m.render(c, status, tmplEditClient, v)
}

// postEditClient saves every setting on the form with the service's
// Update, as PATCH /api/v1/clients/{id} (clients:update). Whether a client
// is public is chosen at creation and cannot change; a public client always
// requires PKCE. Sensitive: a redirect URI decides where authorization
// codes go.
func (m *Module) postEditClient(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, clientRes(id), "update"); err != nil {
		return m.pageError(c, err)
	}
	cl, err := m.d.Clients.Get(ctx, id)
	if err != nil {
		return m.pageError(c, err)
	}
	form, err := c.FormParams()
	if err != nil {
		return m.pageError(c, err)
	}
	f := readClientForm(form)
	if cl.Public {
		f.RequirePKCE = true
	}
	u, err := f.update()
	if err == nil {
		_, err = m.d.Clients.Update(ctx, id, u)
	}
	if err != nil {
		status, msg, ok := explainClient(err)
		if !ok {
			return m.pageError(c, err)
		}
		return m.editClientForm(c, status, cl, f, msg)
	}
	return redirect(c, "/admin/clients/"+url.PathEscape(id)+"/edit", "client-saved")
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []string {
	out := []string{}
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

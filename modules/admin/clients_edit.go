package admin

import (
	"net/http"
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

// editClientView is the data of admin/client_edit.html.
type editClientView struct {
	view
	ID, Name, RedirectURIs, Scopes string
	Public, FirstParty             bool
	Grants                         []grantOption
}

type grantOption struct {
	Value, Label, ID string
	Checked          bool
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
	v := editClientView{ID: cl.ID, Name: cl.Name, RedirectURIs: strings.Join(cl.RedirectURIs, "\n"),
		Scopes: strings.Join(cl.Scopes, " "), Public: cl.Public, FirstParty: cl.FirstParty}
	return m.editClientForm(c, http.StatusOK, v, cl.GrantTypes, "")
}

func (m *Module) editClientForm(c echo.Context, status int, v editClientView, grants []string, errMsg string) error {
	var err error
	if v.view, err = m.newView(c, "Edit client", "/admin/clients"); err != nil {
		return m.pageError(c, err)
	}
	for _, g := range grantTypes {
		v.Grants = append(v.Grants, grantOption{Value: g.Value, Label: g.Label, ID: "grant-" + g.Value, Checked: slices.Contains(grants, g.Value)})
	}
	v.Error = errMsg
	return m.render(c, status, tmplEditClient, v)
}

// postEditClient changes the client's name, redirect URIs, scopes, grant
// types and first-party flag with the service's Update, as PATCH
// /api/v1/clients/{id} (clients:update). Sensitive: a redirect URI decides
// where authorization codes go.
func (m *Module) postEditClient(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, clientRes(id), "update"); err != nil {
		return m.pageError(c, err)
	}
	form, err := c.FormParams()
	if err != nil {
		return m.pageError(c, err)
	}
	v := editClientView{ID: id, Name: strings.TrimSpace(form.Get("name")), RedirectURIs: form.Get("redirect_uris"),
		Scopes: strings.TrimSpace(form.Get("scopes")), FirstParty: form.Get("first_party") == "on"}
	uris, scopes, grants := lines(v.RedirectURIs), strings.Fields(v.Scopes), form["grant_types"]
	if grants == nil {
		grants = []string{}
	}
	u := clients.ClientUpdate{Name: &v.Name, RedirectURIs: &uris, Scopes: &scopes, GrantTypes: &grants, FirstParty: &v.FirstParty}
	if _, err := m.d.Clients.Update(ctx, id, u); err != nil {
		status, msg, ok := explain(err)
		if !ok {
			return m.pageError(c, err)
		}
		if cl, gerr := m.d.Clients.Get(ctx, id); gerr == nil {
			v.Public = cl.Public
		}
		return m.editClientForm(c, status, v, grants, msg)
	}
	return redirect(c, "/admin/clients", "client-saved")
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

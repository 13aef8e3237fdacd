package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
)

// Template names of the clients pages.
const (
	tmplClients      = "admin/clients.html"
	tmplNewClient    = "admin/client_new.html"
	tmplClientSecret = "admin/client_secret.html"
	tmplDeleteClient = "admin/client_delete.html"
)

var allClients = principal.Resource{Type: "clients", ID: "*"}

func clientRes(id string) principal.Resource { return principal.Resource{Type: "clients", ID: id} }

// clientsView is the data of admin/clients.html.
type clientsView struct {
	view
	Clients   []clientRow
	NextHref  string
	CanCreate bool
}

// clientRow is one registered client.
type clientRow struct {
	ID, Name, Kind, Created string
	RedirectURIs            []string
	Confidential            bool
}

func (m *Module) mountClients(g *echo.Group, sensitive echo.MiddlewareFunc) {
	if m.d.Clients == nil {
		return
	}
	g.GET("/clients", m.getClients)
	g.GET("/clients/new", m.getNewClient)
	g.POST("/clients", m.postClient)
	g.GET("/clients/:id/delete", m.getDeleteClient)
	g.POST("/clients/:id/delete", m.postDeleteClient)
	g.POST("/clients/:id/secret", m.postRotateSecret, sensitive)
	g.GET("/clients/:id/edit", m.getEditClient)
	g.POST("/clients/:id/edit", m.postEditClient, sensitive)
}

// getClients lists the clients (clients:read, as GET /api/v1/clients).
func (m *Module) getClients(c echo.Context) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, allClients, "read"); err != nil {
		return m.pageError(c, err)
	}
	v := clientsView{}
	var err error
	if v.view, err = m.newView(c, "Clients", "/admin/clients"); err != nil {
		return m.pageError(c, err)
	}
	list, err := m.d.Clients.List(ctx, 0, c.QueryParam("page_token"))
	if err != nil {
		return m.pageError(c, err)
	}
	for _, cl := range list.Items {
		row := clientRow{ID: cl.ID, Name: cl.Name, Kind: "confidential", Confidential: !cl.Public,
			Created: cl.CreatedAt.UTC().Format(timeFormat), RedirectURIs: cl.RedirectURIs}
		if cl.Public {
			row.Kind = "public"
		}
		v.Clients = append(v.Clients, row)
	}
	if list.NextPageToken != "" {
		v.NextHref = "/admin/clients?" + url.Values{"page_token": {list.NextPageToken}}.Encode()
	}
	if v.CanCreate, err = m.can(c, allClients, "create"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, http.StatusOK, tmplClients, v)
}

// newClientView is the data of the "Create client" form.
type newClientView struct {
	view
	Name, RedirectURIs, PostLogoutURIs string
	Public                             bool
}

func (m *Module) getNewClient(c echo.Context) error {
	return m.newClientForm(c, http.StatusOK, newClientView{}, "")
}

func (m *Module) newClientForm(c echo.Context, status int, v newClientView, errMsg string) error {
	if err := m.require(c.Request().Context(), allClients, "create"); err != nil {
		return m.pageError(c, err)
	}
	var err error
	if v.view, err = m.newView(c, "Create client", "/admin/clients"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	return m.render(c, status, tmplNewClient, v)
}

// clientSecretView is the page that shows a secret once, with the
// configuration an application needs.
type clientSecretView struct {
	view
	Name, Secret string
	Config       clientConfig
	Created      bool // false: a rotated secret
}

// postClient registers a client, as POST /api/v1/clients (clients:create),
// and shows its secret once (a public client has none).
func (m *Module) postClient(c echo.Context) error {
	ctx := c.Request().Context()
	v := newClientView{Name: strings.TrimSpace(c.FormValue("name")), RedirectURIs: c.FormValue("redirect_uris"),
		PostLogoutURIs: c.FormValue("post_logout_redirect_uris"), Public: c.FormValue("public") == "on"}
	if err := m.require(ctx, allClients, "create"); err != nil {
		return m.pageError(c, err)
	}
	cl, secret, err := m.d.Clients.Create(ctx, clients.NewClient{Name: v.Name, Public: v.Public,
		RedirectURIs: lines(v.RedirectURIs), PostLogoutRedirectURIs: lines(v.PostLogoutURIs)})
	if err != nil {
		status, msg, ok := explainClient(err)
		if !ok {
			return m.pageError(c, err)
		}
		return m.newClientForm(c, status, v, msg)
	}
	return m.showSecret(c, http.StatusCreated, cl, secret, true)
}

func (m *Module) showSecret(c echo.Context, status int, cl clients.Client, secret string, created bool) error {
	v := clientSecretView{Name: cl.Name, Secret: secret, Config: m.clientConfig(cl), Created: created}
	var err error
	title := "Client created"
	if !created {
		title = "New client secret"
	}
	if v.view, err = m.newView(c, title, "/admin/clients"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, status, tmplClientSecret, v)
}

// postRotateSecret issues a new secret, as POST /api/v1/clients/{id}/secret
// (clients:rotate); the old one keeps working for the default overlap.
// Sensitive.
func (m *Module) postRotateSecret(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, clientRes(id), "rotate"); err != nil {
		return m.pageError(c, err)
	}
	cl, err := m.d.Clients.Get(ctx, id)
	if err != nil {
		return m.pageError(c, err)
	}
	secret, err := m.d.Clients.RotateSecret(ctx, id, 0)
	if err != nil {
		return m.pageError(c, err)
	}
	return m.showSecret(c, http.StatusOK, cl, secret, false)
}

// deleteClientView is the data of the delete confirmation.
type deleteClientView struct {
	view
	ID, Name string
}

func (m *Module) getDeleteClient(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, clientRes(id), "delete"); err != nil {
		return m.pageError(c, err)
	}
	cl, err := m.d.Clients.Get(ctx, id)
	if err != nil {
		return m.pageError(c, err)
	}
	v := deleteClientView{ID: cl.ID, Name: cl.Name}
	if v.view, err = m.newView(c, "Delete client", "/admin/clients"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, http.StatusOK, tmplDeleteClient, v)
}

// postDeleteClient is DELETE /api/v1/clients/{id} (clients:delete).
func (m *Module) postDeleteClient(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, clientRes(id), "delete"); err != nil {
		return m.pageError(c, err)
	}
	if err := m.d.Clients.Delete(ctx, id); err != nil {
		return m.pageError(c, err)
	}
	return redirect(c, "/admin/clients", "client-deleted")
}

package admin

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/modules/identity"
)

const tmplServiceAccounts = "admin/serviceaccounts.html"

// serviceAccountsView is the data of admin/serviceaccounts.html: the
// Machine users and the form that creates one.
type serviceAccountsView struct {
	view
	Accounts    []serviceAccountRow
	NextHref    string
	CanCreate   bool
	Name, Email string
}

// serviceAccountRow is one service account.
type serviceAccountRow struct {
	ID, Name, Email, Status, Created, Roles string
	CanReadKeys                             bool
}

func (m *Module) mountServiceAccounts(g *echo.Group) {
	if m.d.APIKeys == nil {
		return
	}
	g.GET("/service-accounts", m.getServiceAccounts)
	g.POST("/service-accounts", m.postServiceAccount)
}

// getServiceAccounts lists the Machine users (users:read, as GET
// /api/v1/users).
func (m *Module) getServiceAccounts(c echo.Context) error {
	return m.renderServiceAccounts(c, http.StatusOK, serviceAccountsView{})
}

func (m *Module) renderServiceAccounts(c echo.Context, status int, v serviceAccountsView) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, allUsers, "read"); err != nil {
		return m.pageError(c, err)
	}
	errMsg := v.Error
	var err error
	if v.view, err = m.newView(c, "Service accounts", "/admin/service-accounts"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	list, err := m.d.Users.ListUsers(ctx, identity.UserFilter{Machine: true, PageToken: c.QueryParam("page_token")})
	if err != nil {
		return m.pageError(c, err)
	}
	for _, u := range list.Items {
		row := serviceAccountRow{ID: u.ID, Name: u.Name, Email: u.Email, Status: u.Status,
			Created: u.CreatedAt.UTC().Format(timeFormat), Roles: strings.Join(u.Roles, ", ")}
		if row.CanReadKeys, err = m.can(c, keysRes(u.ID), "read"); err != nil {
			return m.pageError(c, err)
		}
		v.Accounts = append(v.Accounts, row)
	}
	if list.NextPageToken != "" {
		v.NextHref = "/admin/service-accounts?" + url.Values{"page_token": {list.NextPageToken}}.Encode()
	}
	if v.CanCreate, err = m.can(c, allUsers, "create"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, status, tmplServiceAccounts, v)
}

// postServiceAccount creates a Machine user (users:create), with the call
// POST /api/v1/service-accounts makes, then opens its API keys.
func (m *Module) postServiceAccount(c echo.Context) error {
	ctx := c.Request().Context()
	v := serviceAccountsView{Name: strings.TrimSpace(c.FormValue("name")), Email: strings.TrimSpace(c.FormValue("email"))}
	if err := m.require(ctx, allUsers, "create"); err != nil {
		return m.pageError(c, err)
	}
	if v.Name == "" || utf8.RuneCountInString(v.Name) > 200 { // the API's minLength and maxLength
		v.Error = "Give the service account a name of at most 200 characters."
		return m.renderServiceAccounts(c, http.StatusUnprocessableEntity, v)
	}
	u, err := m.d.APIKeys.CreateServiceAccount(ctx, v.Name, v.Email)
	if err != nil {
		status, msg, ok := explain(err)
		if !ok {
			return m.pageError(c, err)
		}
		v.Error = msg
		return m.renderServiceAccounts(c, status, v)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/api-keys?"+url.Values{"user": {u.ID}, "flash": {"sa-created"}}.Encode())
}

package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// Template names of the users pages.
const (
	tmplUsers   = "admin/users.html"
	tmplNewUser = "admin/user_new.html"
)

var allUsers = principal.Resource{Type: "users", ID: "*"}

// dateFormat is a day in the users table (UTC, as every console time).
const dateFormat = "2006-01-02"

// usersView is the data of admin/users.html: the search form, the filters,
// one page of users, the link to the next and the sentence that announces
// how many are shown.
type usersView struct {
	view
	Query     string
	Role      string
	Status    string
	Sort      string   // identity.SortCreated, SortEmail or SortName
	RoleNames []string // the role filter's options; empty hides it
	Users     []userRow
	NextHref  string
	Shown     string
	CanCreate bool
}

// userRow is one line of the users table.
type userRow struct {
	ID, Email, Name, Status, Roles, Created string
}

// getUsers is /admin and /admin/users: users:read on the collection, as
// GET /api/v1/users. Without it the console answers 403. An htmx request
// (search as you type, a filter, the next page) gets only the results
// region (usersFragment); the same URL without htmx is the whole page.
func (m *Module) getUsers(c echo.Context) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, allUsers, "read"); err != nil {
		return m.pageError(c, err)
	}
	v := usersView{Query: strings.TrimSpace(c.QueryParam("q")), Role: c.QueryParam("role"), Status: c.QueryParam("status")}
	if v.Status != "" && v.Status != identity.StatusActive && v.Status != identity.StatusDisabled {
		v.Status = ""
	}
	if v.Sort = c.QueryParam("sort"); v.Sort != identity.SortEmail && v.Sort != identity.SortName {
		v.Sort = identity.SortCreated
	}
	var err error
	if v.view, err = m.newView(c, "Users", "/admin/users"); err != nil {
		return m.pageError(c, err)
	}
	list, err := m.d.Users.ListUsers(ctx, identity.UserFilter{
		Query: v.Query, Role: v.Role, Status: v.Status, Sort: v.Sort, PageToken: c.QueryParam("page_token"),
	})
	if err != nil {
		return m.pageError(c, err)
	}
	for _, u := range list.Items {
		v.Users = append(v.Users, userRow{ID: u.ID, Email: u.Email, Name: u.Name, Status: u.Status,
			Roles: strings.Join(u.Roles, ", "), Created: u.CreatedAt.UTC().Format(dateFormat)})
	}
	if list.NextPageToken != "" {
		q := url.Values{"page_token": {list.NextPageToken}}
		for k, val := range map[string]string{"q": v.Query, "role": v.Role, "status": v.Status, "sort": v.Sort} {
			if val != "" && (k != "sort" || val != identity.SortCreated) {
				q.Set(k, val)
			}
		}
		v.NextHref = "/admin/users?" + q.Encode()
	}
	v.Shown = shownSentence(len(v.Users), v.NextHref != "")
	if wantsFragment(c) {
		return m.d.Pages.Fragment(c, http.StatusOK, tmplUsers, usersFragment, v)
	}
	if v.RoleNames, err = m.roleNames(c); err != nil {
		return m.pageError(c, err)
	}
	if v.CanCreate, err = m.can(c, allUsers, "create"); err != nil {
		return m.pageError(c, err)
	}
	return m.render(c, http.StatusOK, tmplUsers, v)
}

// roleNames lists the roles when the user may read them (roles:read, as
// GET /api/v1/roles), else none.
func (m *Module) roleNames(c echo.Context) ([]string, error) {
	ok, err := m.can(c, principal.Resource{Type: "roles", ID: "*"}, "read")
	if err != nil || !ok {
		return nil, err
	}
	roles, err := m.d.Roles.Roles(c.Request().Context())
	if err != nil {
		return nil, err
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	return names, nil
}

// can asks the authorizer about the signed-in user.
func (m *Module) can(c echo.Context, res principal.Resource, action string) (bool, error) {
	ctx := c.Request().Context()
	return m.d.Authorizer.Can(ctx, signedIn(c), res, action)
}

// newUserView is the data of admin/user_new.html.
type newUserView struct {
	view
	Email, Name string
}

// getNewUser shows the "Create user" form (users:create).
func (m *Module) getNewUser(c echo.Context) error {
	return m.newUserForm(c, http.StatusOK, newUserView{}, "")
}

func (m *Module) newUserForm(c echo.Context, status int, v newUserView, errMsg string) error {
	if err := m.require(c.Request().Context(), allUsers, "create"); err != nil {
		return m.pageError(c, err)
	}
	var err error
	if v.view, err = m.newView(c, "Create user", "/admin/users"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	return m.render(c, status, tmplNewUser, v)
}

// postUser creates a user, as POST /api/v1/users (users:create); the
// password is optional.
func (m *Module) postUser(c echo.Context) error {
	ctx := c.Request().Context()
	v := newUserView{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name"))}
	if err := m.require(ctx, allUsers, "create"); err != nil {
		return m.pageError(c, err)
	}
	u, err := m.d.Users.CreateUser(ctx, identity.NewUser{Email: v.Email, Name: v.Name, Password: c.FormValue("password")})
	if err != nil {
		status, msg, ok := explain(err)
		if !ok {
			return m.pageError(c, err)
		}
		return m.newUserForm(c, status, v, msg)
	}
	return redirect(c, "/admin/users/"+url.PathEscape(u.ID), "created")
}

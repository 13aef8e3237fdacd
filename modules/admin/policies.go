package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/authz"
)

const tmplPolicies = "admin/policies.html"

// policiesView is the data of admin/policies.html: the rules, the create
// form, and the "Test access" form with its decision.
type policiesView struct {
	view
	Policies  []authz.Policy
	NextHref  string
	CanCreate bool
	CanTest   bool
	Rule      authz.Rule // the create form's values
	// Test access: a user id, a resource "<type>:<id>", an action.
	TestUser, TestResource, TestAction string
	Tested                             bool
	Decision                           authz.Decision
}

func (m *Module) mountPolicies(g *echo.Group, sensitive echo.MiddlewareFunc) {
	if m.d.Policies == nil {
		return
	}
	g.GET("/policies", m.getPolicies)
	g.POST("/policies", m.postPolicy, sensitive)
	g.GET("/policies/:id/edit", m.getPolicy)
	g.POST("/policies/:id", m.postPolicyUpdate, sensitive)
	g.POST("/policies/:id/delete", m.postDeletePolicy, sensitive)
}

// The API names the policy collection with an empty id.
var allPolicies = principal.Resource{Type: "policies"}

// getPolicies lists the rules (policies:read, as GET /api/v1/policies) and
// answers "Test access" (authzen:decisions evaluate, as /access/v1).
func (m *Module) getPolicies(c echo.Context) error {
	v := policiesView{TestUser: strings.TrimSpace(c.QueryParam("test_user")),
		TestResource: strings.TrimSpace(c.QueryParam("test_resource")), TestAction: strings.TrimSpace(c.QueryParam("test_action"))}
	return m.renderPolicies(c, http.StatusOK, v)
}

func (m *Module) renderPolicies(c echo.Context, status int, v policiesView) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, allPolicies, "read"); err != nil {
		return m.pageError(c, err)
	}
	errMsg := v.Error
	var err error
	if v.view, err = m.newView(c, "Policies", "/admin/policies"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = errMsg
	list, err := m.d.Policies.ListPolicies(ctx, authz.PolicyFilter{PageToken: c.QueryParam("page_token")})
	if err != nil {
		return m.pageError(c, err)
	}
	v.Policies = list.Items
	if list.NextPageToken != "" {
		v.NextHref = "/admin/policies?" + url.Values{"page_token": {list.NextPageToken}}.Encode()
	}
	if v.CanCreate, err = m.can(c, allPolicies, "create"); err != nil {
		return m.pageError(c, err)
	}
	if v.CanTest, err = m.can(c, principal.Resource{Type: "authzen", ID: "decisions"}, "evaluate"); err != nil {
		return m.pageError(c, err)
	}
	if v.CanTest && v.TestUser != "" && v.TestResource != "" && v.TestAction != "" {
		typ, id, _ := strings.Cut(v.TestResource, ":")
		d, err := m.d.Policies.Evaluate(ctx, authz.EvalRequest{
			Subject: authz.Entity{Type: "user", ID: v.TestUser}, Resource: authz.Entity{Type: typ, ID: id}, Action: v.TestAction,
		})
		if err != nil {
			s, msg, ok := explain(err)
			if !ok {
				return m.pageError(c, err)
			}
			status, v.Error = s, msg
		} else {
			v.Tested, v.Decision = true, d
		}
	}
	return m.render(c, status, tmplPolicies, v)
}

// postPolicy creates a rule (policies:create and no escalation), as POST
// /api/v1/policies. Sensitive.
func (m *Module) postPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	r := authz.Rule{Subject: strings.TrimSpace(c.FormValue("subject")), Resource: strings.TrimSpace(c.FormValue("resource")),
		Action: strings.TrimSpace(c.FormValue("action")), Effect: c.FormValue("effect"), Condition: strings.TrimSpace(c.FormValue("condition"))}
	fail := func(err error) error {
		status, msg, ok := explain(err)
		if !ok {
			return m.pageError(c, err)
		}
		return m.renderPolicies(c, status, policiesView{view: view{Page: pageWithError(msg)}, Rule: r})
	}
	if err := m.require(ctx, allPolicies, "create"); err != nil {
		return fail(err)
	}
	if ok, err := m.d.Grants.CoversRule(ctx, signedIn(c), r); err != nil || !ok {
		if err == nil {
			err = forbidden("You may not create this rule: it grants rights you do not hold.")
		}
		return fail(err)
	}
	if _, err := m.d.Policies.CreatePolicy(ctx, r); err != nil {
		return fail(err)
	}
	return redirect(c, "/admin/policies", "policy-created")
}

// postDeletePolicy deletes a rule (policies:delete; removing a deny needs
// the rights it withheld), as DELETE /api/v1/policies/{id}. Sensitive.
func (m *Module) postDeletePolicy(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	fail := func(err error) error {
		status, msg, ok := explain(err)
		if !ok {
			return m.pageError(c, err)
		}
		return m.renderPolicies(c, status, policiesView{view: view{Page: pageWithError(msg)}})
	}
	if err := m.require(ctx, principal.Resource{Type: "policies", ID: id}, "delete"); err != nil {
		return fail(err)
	}
	if p, err := m.d.Policies.GetPolicy(ctx, id); err == nil && !p.BuiltIn {
		ok, err := m.d.Grants.CoversRemoval(ctx, signedIn(c), p.Rule())
		if err != nil {
			return fail(err)
		}
		if !ok {
			return fail(forbidden("You may not delete this rule: it withholds rights you do not hold."))
		}
	}
	if err := m.d.Policies.DeletePolicy(ctx, id); err != nil {
		return fail(err)
	}
	return redirect(c, "/admin/policies", "policy-deleted")
}

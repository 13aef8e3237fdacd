package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/authz"
)

const tmplPolicy = "admin/policy.html"

// policyView is the data of admin/policy.html: one rule's edit form.
type policyView struct {
	view
	ID   string
	Rule authz.Rule
}

func policyRes(id string) principal.Resource { return principal.Resource{Type: "policies", ID: id} }

// getPolicy shows a rule's edit form (policies:update on it, as PUT
// /api/v1/policies/{id}); built-in rules cannot be edited.
func (m *Module) getPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := m.require(ctx, policyRes(id), "update"); err != nil {
		return m.pageError(c, err)
	}
	p, err := m.d.Policies.GetPolicy(ctx, id)
	if err == nil && p.BuiltIn {
		err = authz.ErrBuiltIn
	}
	if err != nil {
		return m.pageError(c, err)
	}
	return m.renderPolicy(c, http.StatusOK, id, p.Rule(), "")
}

func (m *Module) renderPolicy(c echo.Context, status int, id string, r authz.Rule, msg string) error {
	v := policyView{ID: id, Rule: r}
	var err error
	if v.view, err = m.newView(c, "Edit rule", "/admin/policies"); err != nil {
		return m.pageError(c, err)
	}
	v.Error = msg
	return m.render(c, status, tmplPolicy, v)
}

// postPolicyUpdate replaces a rule, as PUT /api/v1/policies/{id}:
// policies:update, the new rule held by the editor, and, when the old rule
// is a deny, the rights it withheld held too (no escalation). Sensitive.
func (m *Module) postPolicyUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	r := authz.Rule{Subject: strings.TrimSpace(c.FormValue("subject")), Resource: strings.TrimSpace(c.FormValue("resource")),
		Action: strings.TrimSpace(c.FormValue("action")), Effect: c.FormValue("effect"), Condition: strings.TrimSpace(c.FormValue("condition"))}
	fail := func(err error) error {
		status, msg, ok := explain(err)
		if !ok || status == http.StatusNotFound {
			return m.pageError(c, err)
		}
		return m.renderPolicy(c, status, id, r, msg)
	}
	if err := m.require(ctx, policyRes(id), "update"); err != nil {
		return m.pageError(c, err)
	}
	old, err := m.d.Policies.GetPolicy(ctx, id)
	if err != nil {
		return m.pageError(c, err)
	}
	if ok, err := m.d.Grants.CoversRule(ctx, signedIn(c), r); err != nil || !ok {
		if err == nil {
			err = forbidden("You may not save this rule: it grants rights you do not hold.")
		}
		return fail(err)
	}
	if ok, err := m.d.Grants.CoversRemoval(ctx, signedIn(c), old.Rule()); err != nil || !ok {
		if err == nil {
			err = forbidden("You may not change this rule: it withholds rights you do not hold.")
		}
		return fail(err)
	}
	if _, err := m.d.Policies.UpdatePolicy(ctx, id, r); err != nil {
		return fail(err)
	}
	return redirect(c, "/admin/policies", "policy-updated")
}

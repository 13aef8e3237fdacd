package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// TestPolicyEdit: the console edits a rule in place as PUT
// /api/v1/policies/{id} does: applied at once and audited; a rule that
// does not parse is shown again with its values; an editor may not save a
// rule granting what it lacks; built-in rules cannot be edited.
func TestPolicyEdit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleOn(t, db)
		ctx := principal.With(context.Background(), principal.SystemPrincipal)
		if _, err := c.ids.CreateRole(ctx, identity.Role{Name: "policy-editor"}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []authz.Rule{
			{Subject: "role:policy-editor", Resource: "policies:*", Action: "*", Effect: authz.Allow},
			{Subject: "role:policy-editor", Resource: "docs:*", Action: "read", Effect: authz.Allow},
		} {
			if _, err := c.az.CreatePolicy(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		bob := c.user("bob@example.com", "Bob")
		p, err := c.az.CreatePolicy(ctx, authz.Rule{Subject: "user:" + bob, Resource: "docs:*", Action: "read", Effect: authz.Allow})
		if err != nil {
			t.Fatal(err)
		}
		can := func(action string) bool {
			ok, err := c.az.Can(ctx, principal.Principal{Kind: principal.User, ID: bob}, principal.Resource{Type: "docs", ID: "1"}, action)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		rule := func(action, cond string) url.Values {
			return url.Values{"subject": {"user:" + bob}, "resource": {"docs:*"}, "action": {action}, "effect": {"allow"}, "condition": {cond}}
		}

		c.as = c.user("pe@example.com", "PE", "policy-editor")
		c.get("/admin/policies/"+p.ID+"/edit").want(t, http.StatusOK, "Edit rule", `value="user:`+bob+`"`, "Save rule")
		c.post("/admin/policies/"+p.ID, rule("write", "")).want(t, http.StatusForbidden, "grants rights you do not hold")
		if !can("read") || can("write") {
			t.Fatal("a refused edit changed the rule")
		}

		c.as = c.user("root@example.com", "Root", "admin")
		c.post("/admin/policies/"+p.ID, rule("write", "r.obj.owner ==")).want(t, http.StatusBadRequest, `value="r.obj.owner =="`)
		c.post("/admin/policies/"+p.ID, rule("write", "")).want(t, http.StatusSeeOther)
		if can("read") || !can("write") {
			t.Fatal("the edit did not apply")
		}
		if !slices.Contains(c.events(), "policy.update by "+c.as) {
			t.Fatalf("policy.update not audited: %v", c.events())
		}
		c.get("/admin/policies/00000000-0000-7000-8000-000000000005/edit").want(t, http.StatusConflict)
	})
}

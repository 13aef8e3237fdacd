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

// TestRoleRemovalEscalation: taking away a role whose deny rule withholds
// a right (policies read) gives that right back, from a user or as a
// parent, so the console refuses it to a user-admin who lacks the right,
// as the API does; the admin may.
func TestRoleRemovalEscalation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		c := newConsoleOn(t, db)
		ctx := principal.With(context.Background(), principal.SystemPrincipal)
		for _, r := range []string{"muzzle", "readers"} {
			if _, err := c.ids.CreateRole(ctx, identity.Role{Name: r}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.az.CreatePolicy(ctx, authz.Rule{Subject: "role:muzzle", Resource: "policies:*", Action: "read", Effect: authz.Deny}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.az.CreatePolicy(ctx, authz.Rule{Subject: "role:user-admin", Resource: "roles:readers", Action: "update", Effect: authz.Allow}); err != nil {
			t.Fatal(err)
		}
		if err := c.az.AddRoleParent(ctx, "readers", "muzzle"); err != nil {
			t.Fatal(err)
		}
		bob := c.user("bob@example.com", "Bob", "muzzle")

		c.as = c.user("uma@example.com", "Uma", "user-admin")
		c.post("/admin/users/"+bob+"/roles/remove", url.Values{"role": {"muzzle"}}).
			want(t, http.StatusForbidden, "deny rules of role muzzle")
		c.post("/admin/roles/readers/parents/remove", url.Values{"parent": {"muzzle"}}).
			want(t, http.StatusForbidden, "deny rules of role muzzle")
		if roles, _ := c.ids.RolesOf(ctx, bob); !slices.Contains(roles, "muzzle") {
			t.Fatalf("a refused removal took the role: %v", roles)
		}
		wantParents(t, c, "readers", []string{"muzzle"})

		c.as = c.user("root@example.com", "Root", "admin")
		c.post("/admin/users/"+bob+"/roles/remove", url.Values{"role": {"muzzle"}}).want(t, http.StatusSeeOther)
		c.post("/admin/roles/readers/parents/remove", url.Values{"parent": {"muzzle"}}).want(t, http.StatusSeeOther)
		wantParents(t, c, "readers", nil)
	})
}

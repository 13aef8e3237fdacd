package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// Deleting a role in identity removes authz rules naming it, in the same
// transaction, so a later role of the same name starts with no rights.
func TestDeletedRoleTakesItsPoliciesAlong(t *testing.T) {
	cfg := config.Config{DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "g.db")}.WithDefaults()
	a, err := newApp(context.Background(), cfg, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ctx := principal.With(context.Background(), principal.SystemPrincipal)

	if _, err := a.identity.CreateRole(ctx, identity.Role{Name: "editor"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.authz.CreatePolicy(ctx, authz.Rule{Subject: "role:editor", Resource: "doc:*", Action: "edit", Effect: "allow"}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		page, err := a.authz.ListPolicies(ctx, authz.PolicyFilter{Subject: "role:editor"})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Items)
	}
	if n := count(); n != 1 {
		t.Fatalf("policies before delete = %d, want 1", n)
	}
	if err := a.identity.DeleteRole(ctx, "editor"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("policies after role delete = %d, want 0", n)
	}
}

package e2e

import (
	"net/http"
	"testing"
)

// No escalation (CONTRACT, Admin REST API): a principal gives a role, makes
// a role inherit another or creates a policy only when it holds every right
// this grants, and changes another user's password, email or status, or
// deletes them, only when it holds every right that user holds — decided on
// effective rights (inheritance included), not role names.

// TestEscalationThroughRoleInheritance: a user-admin cannot make its own
// role inherit admin, and stays unable to read policies.
func TestEscalationThroughRoleInheritance(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	createUser(t, srv, "ua-inherit@example.com", "user-admin-password-1", "user-admin")
	ua := api(srv, createAPIKey(t, srv, "ua-inherit@example.com", "ua"))
	before := azSnapshot(t, admin)

	assertProblem(t, ua.do(t, "PUT", "/roles/user-admin/parents/admin", nil), http.StatusForbidden)
	assertProblem(t, ua.do(t, "PUT", "/roles/user-admin/parents/auditor", nil), http.StatusForbidden)
	assertProblem(t, ua.get(t, "/policies"), http.StatusForbidden)
	var parents struct {
		Items []struct {
			Parent string `json:"parent"`
		} `json:"items"`
	}
	admin.get(t, "/roles/user-admin/parents").expect(t, http.StatusOK).decode(t, &parents)
	if len(parents.Items) != 0 {
		t.Fatalf("user-admin inherits %+v after refused requests", parents.Items)
	}
	azAssertUnchanged(t, "the user-admin's refused inheritance", before, azSnapshot(t, admin))

	// The admin holds everything, so it may.
	azCreateRole(t, admin, "helpers")
	admin.do(t, "PUT", "/roles/helpers/parents/auditor", nil).expect(t, http.StatusNoContent, http.StatusOK)
}

// TestEscalationThroughRoleGrant: a role carrying rights the user-admin
// lacks (policies:* *) cannot be given by it, to itself or anyone.
func TestEscalationThroughRoleGrant(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	azOpsRoles(t, admin)
	azCreateRole(t, admin, "empty")
	uaID := createUser(t, srv, "ua-grant@example.com", "user-admin-password-1", "user-admin")
	ua := api(srv, createAPIKey(t, srv, "ua-grant@example.com", "ua"))
	plainID := createUser(t, srv, "plain-grant@example.com", "plain-user-password-1")

	for _, r := range []*apiResponse{
		ua.do(t, "PUT", "/users/"+uaID+"/roles/ops", nil),
		ua.do(t, "PUT", "/users/"+plainID+"/roles/ops", nil),
		ua.do(t, "PUT", "/users/"+plainID+"/roles/ops-child", nil), // inherits ops
		ua.do(t, "PUT", "/users/"+plainID+"/roles/auditor", nil),
		ua.do(t, "POST", "/users", map[string]any{"email": "new-ops@example.com", "name": "New", "roles": []string{"ops"}}),
	} {
		assertProblem(t, r, http.StatusForbidden, "rights you do not hold")
	}
	for _, id := range []string{uaID, plainID} {
		var u userDTO
		admin.get(t, "/users/"+id).expect(t, http.StatusOK).decode(t, &u)
		if contains(u.Roles, "ops") || contains(u.Roles, "ops-child") || contains(u.Roles, "auditor") {
			t.Fatalf("refused grants changed %s: %+v", id, u)
		}
	}
	var all page[userDTO]
	admin.get(t, "/users?q=new-ops").expect(t, http.StatusOK).decode(t, &all)
	if len(all.Items) != 0 {
		t.Fatalf("a refused create made a user: %+v", all.Items)
	}
	assertProblem(t, ua.get(t, "/policies"), http.StatusForbidden)

	// What it holds, it may give: a role without rules, and user-admin.
	ua.do(t, "PUT", "/users/"+plainID+"/roles/empty", nil).expect(t, http.StatusOK)
	ua.do(t, "PUT", "/users/"+plainID+"/roles/user-admin", nil).expect(t, http.StatusOK)
	// The admin may give ops.
	admin.do(t, "PUT", "/users/"+plainID+"/roles/ops", nil).expect(t, http.StatusOK)
}

// TestEscalationThroughTargetUser: a user-admin cannot reset the password
// of, change the email of, disable or delete a user holding ops (directly or
// through inheritance); it still can for a plain user.
func TestEscalationThroughTargetUser(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	azOpsRoles(t, admin)
	createUser(t, srv, "ua-target@example.com", "user-admin-password-1", "user-admin")
	ua := api(srv, createAPIKey(t, srv, "ua-target@example.com", "ua"))
	opsID := createUser(t, srv, "ops-target@example.com", "ops-password-1", "ops")
	childID := createUser(t, srv, "child-target@example.com", "child-password-1", "ops-child")
	plainID := createUser(t, srv, "plain-target@example.com", "plain-password-1")

	for _, id := range []string{opsID, childID} {
		var before userDTO
		admin.get(t, "/users/"+id).expect(t, http.StatusOK).decode(t, &before)
		for _, r := range []*apiResponse{
			ua.do(t, "PUT", "/users/"+id+"/password", map[string]any{"password": "taken over by ua 1"}),
			ua.do(t, "PATCH", "/users/"+id, map[string]any{"status": "disabled"}),
			ua.do(t, "PATCH", "/users/"+id, map[string]any{"email": "ua-owns-this@example.com"}),
			ua.do(t, "DELETE", "/users/"+id, nil),
		} {
			assertProblem(t, r, http.StatusForbidden, "rights you do not hold")
		}
		var after userDTO
		admin.get(t, "/users/"+id).expect(t, http.StatusOK).decode(t, &after)
		if after.Status != "active" || after.Email != before.Email || after.UpdatedAt != before.UpdatedAt {
			t.Fatalf("refused requests changed the user: %+v → %+v", before, after)
		}
	}
	// The password is unchanged: its owner still proves it.
	own := api(srv, createAPIKey(t, srv, "ops-target@example.com", "own"))
	own.do(t, "PUT", "/users/"+opsID+"/password", map[string]any{"password": "ops-password-2", "current_password": "ops-password-1"}).
		expect(t, http.StatusNoContent)

	// A plain user is fair game.
	ua.do(t, "PUT", "/users/"+plainID+"/password", map[string]any{"password": "reset by the ua 1"}).expect(t, http.StatusNoContent)
	ua.do(t, "PATCH", "/users/"+plainID, map[string]any{"status": "disabled"}).expect(t, http.StatusOK)
	ua.do(t, "DELETE", "/users/"+plainID, nil).expect(t, http.StatusNoContent)
	// The admin may act on the ops user.
	admin.do(t, "PATCH", "/users/"+opsID, map[string]any{"status": "disabled"}).expect(t, http.StatusOK)
}

// azOpsRoles creates role ops, holding policies:* * (which a user-admin
// lacks), and ops-child, which inherits it.
func azOpsRoles(t *testing.T, admin *apiClient) {
	t.Helper()
	azCreateRole(t, admin, "ops")
	azAllow(t, admin, "role:ops", "policies:*", "*")
	azCreateRole(t, admin, "ops-child")
	admin.do(t, "PUT", "/roles/ops-child/parents/ops", nil).expect(t, http.StatusNoContent, http.StatusOK)
}

// TestEscalationThroughRoleRemoval: taking away a role whose deny rule
// withholds a right gives that right back, so a user-admin who lacks it
// (policies read) may not; a role without denies it may take away, and the
// admin may take away either.
func TestEscalationThroughRoleRemoval(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	azCreateRole(t, admin, "muzzled")
	azDeny(t, admin, "role:muzzled", "policies:*", "read")
	azCreateRole(t, admin, "empty")
	createUser(t, srv, "ua-remove@example.com", "user-admin-password-1", "user-admin")
	ua := api(srv, createAPIKey(t, srv, "ua-remove@example.com", "ua"))
	bobID := createUser(t, srv, "bob-remove@example.com", "plain-user-password-1", "muzzled", "empty")

	assertProblem(t, ua.do(t, "DELETE", "/users/"+bobID+"/roles/muzzled", nil), http.StatusForbidden, "deny rules")
	var u userDTO
	admin.get(t, "/users/"+bobID).expect(t, http.StatusOK).decode(t, &u)
	if !contains(u.Roles, "muzzled") {
		t.Fatalf("a refused removal took the role: %+v", u.Roles)
	}
	ua.do(t, "DELETE", "/users/"+bobID+"/roles/empty", nil).expect(t, http.StatusOK)
	admin.do(t, "DELETE", "/users/"+bobID+"/roles/muzzled", nil).expect(t, http.StatusOK)
}

// TestEscalationThroughParentRemoval: a role that stops inheriting one
// with a deny rule gets back what the deny withheld, so a principal that
// lacks it (the user-admin, policies read) may not remove the edge.
func TestEscalationThroughParentRemoval(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	azCreateRole(t, admin, "muzzle")
	azDeny(t, admin, "role:muzzle", "policies:*", "read")
	azCreateRole(t, admin, "readers")
	admin.do(t, "PUT", "/roles/readers/parents/muzzle", nil).expect(t, http.StatusNoContent, http.StatusOK)
	createUser(t, srv, "ua-parent@example.com", "user-admin-password-1", "user-admin")
	azAllow(t, admin, "role:user-admin", "roles:readers", "update")
	ua := api(srv, createAPIKey(t, srv, "ua-parent@example.com", "ua"))

	assertProblem(t, ua.do(t, "DELETE", "/roles/readers/parents/muzzle", nil), http.StatusForbidden, "deny rules")
	var parents struct {
		Items []struct {
			Parent string `json:"parent"`
		} `json:"items"`
	}
	admin.get(t, "/roles/readers/parents").expect(t, http.StatusOK).decode(t, &parents)
	if len(parents.Items) != 1 || parents.Items[0].Parent != "muzzle" {
		t.Fatalf("a refused removal changed the parents: %+v", parents.Items)
	}
	admin.do(t, "DELETE", "/roles/readers/parents/muzzle", nil).expect(t, http.StatusNoContent, http.StatusOK)
}

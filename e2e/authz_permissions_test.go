package e2e

import (
	"net/http"
	"testing"
)

// TestAuthzBuiltInRoles: Gatehouse's own permissions go through the same
// enforcer: user-admin manages users and roles but not clients or policies;
// auditor reads everything (audit log included) and changes nothing; a
// plain user has only self-service; the decision API needs evaluate on
// authzen:decisions, which a custom role can grant.
func TestAuthzBuiltInRoles(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	azCreateRole(t, admin, "staff")
	target := createUser(t, srv, "target@example.com", "target-password-1", "staff")
	pol := azAllow(t, admin, "role:staff", "wiki:*", "read")
	newClient := map[string]any{"name": "e2e app", "redirect_uris": []string{"https://app.example.com/cb"}}
	newRule := azRule("role:staff", "wiki:*", "edit", "allow")

	t.Run("user-admin", func(t *testing.T) {
		createUser(t, srv, "ua@example.com", "user-admin-password-1", "user-admin")
		ua := api(srv, createAPIKey(t, srv, "ua@example.com", "ua"))
		var u userDTO
		ua.do(t, "POST", "/users", map[string]any{"email": "by-ua@example.com", "name": "By UA"}).expect(t, http.StatusCreated).decode(t, &u)
		ua.do(t, "PATCH", "/users/"+u.ID, map[string]any{"name": "Renamed by UA"}).expect(t, http.StatusOK)
		ua.get(t, "/users").expect(t, http.StatusOK)
		ua.get(t, "/roles").expect(t, http.StatusOK)
		ua.do(t, "POST", "/roles", map[string]any{"name": "ua-made", "description": "made by user-admin"}).expect(t, http.StatusCreated, http.StatusOK)
		// No escalation: staff grants wiki:* read, which a user-admin lacks;
		// a role without rules it may give.
		assertProblem(t, ua.do(t, "PUT", "/users/"+u.ID+"/roles/staff", nil), http.StatusForbidden)
		ua.do(t, "PUT", "/users/"+u.ID+"/roles/ua-made", nil).expect(t, http.StatusOK, http.StatusNoContent, http.StatusCreated)

		before := azSnapshot(t, admin)
		for _, r := range []*apiResponse{
			ua.get(t, "/clients"),
			ua.do(t, "POST", "/clients", newClient),
			ua.get(t, "/policies"),
			ua.do(t, "POST", "/policies", newRule),
			ua.do(t, "PUT", "/policies", map[string]any{"policies": []any{}}),
			ua.do(t, "DELETE", "/policies/"+pol.ID, nil),
			ua.get(t, "/policies/export"),
			azRawDo(t, ua, "POST", "/policies/import", "text/csv", []byte("p, role:staff, wiki:*, edit, allow\n")),
		} {
			assertProblem(t, r, http.StatusForbidden)
		}
		azAssertUnchanged(t, "user-admin's refused policy requests", before, azSnapshot(t, admin))
		// Granting admin requires admin.
		assertProblem(t, ua.do(t, "PUT", "/users/"+u.ID+"/roles/admin", nil), http.StatusForbidden)
	})

	t.Run("auditor", func(t *testing.T) {
		createUser(t, srv, "aud@example.com", "auditor-password-1", "auditor")
		aud := api(srv, createAPIKey(t, srv, "aud@example.com", "aud"))
		for _, path := range []string{"/audit-events", "/users", "/users/" + target, "/roles", "/policies", "/policies/" + pol.ID, "/clients", "/api-keys"} {
			aud.get(t, path).expect(t, http.StatusOK)
		}
		before := azSnapshot(t, admin)
		for _, r := range []*apiResponse{
			aud.do(t, "POST", "/users", map[string]any{"email": "by-aud@example.com", "name": "By auditor"}),
			aud.do(t, "PATCH", "/users/"+target, map[string]any{"name": "Changed"}),
			aud.do(t, "DELETE", "/users/"+target, nil),
			aud.do(t, "PUT", "/users/"+target+"/roles/auditor", nil),
			aud.do(t, "DELETE", "/users/"+target+"/roles/staff", nil),
			aud.do(t, "POST", "/roles", map[string]any{"name": "aud-made", "description": "x"}),
			aud.do(t, "DELETE", "/roles/staff", nil),
			aud.do(t, "POST", "/policies", newRule),
			aud.do(t, "PUT", "/policies", map[string]any{"policies": []any{}}),
			aud.do(t, "DELETE", "/policies/"+pol.ID, nil),
			azRawDo(t, aud, "POST", "/policies/import", "text/csv", []byte("p, role:staff, wiki:*, edit, allow\n")),
			aud.do(t, "PUT", "/roles/staff/parents/auditor", nil),
			aud.do(t, "POST", "/clients", newClient),
		} {
			assertProblem(t, r, http.StatusForbidden)
		}
		azAssertUnchanged(t, "the auditor's refused requests", before, azSnapshot(t, admin))
		var got userDTO
		admin.get(t, "/users/"+target).expect(t, http.StatusOK).decode(t, &got)
		if got.Name == "Changed" || got.Status != "active" || !contains(got.Roles, "staff") || contains(got.Roles, "auditor") {
			t.Errorf("the auditor changed the user: %+v", got)
		}
		// Reading is not evaluating: the decision API needs evaluate.
		if r := azRoot(srv, aud.token).do(t, "POST", "/access/v1/evaluation", azEvalReq(target, "read", "wiki", "1")); r.Status != http.StatusForbidden {
			t.Errorf("auditor on /access/v1/evaluation: status %d, want 403\n%s", r.Status, r.Body)
		}
	})

	t.Run("plain user", func(t *testing.T) {
		plainID := createUser(t, srv, "plain@example.com", "plain-password-12")
		me := api(srv, createAPIKey(t, srv, "plain@example.com", "mine"))
		me.get(t, "/users/"+plainID).expect(t, http.StatusOK)
		me.do(t, "PATCH", "/users/"+plainID, map[string]any{"name": "Plain Renamed"}).expect(t, http.StatusOK)
		me.get(t, "/api-keys").expect(t, http.StatusOK)
		for _, r := range []*apiResponse{
			me.get(t, "/users/"+target),
			me.get(t, "/policies"),
			me.do(t, "POST", "/policies", azRule("user:"+plainID, "*:*", "*", "allow")),
			me.get(t, "/audit-events"),
			me.get(t, "/clients"),
			me.do(t, "POST", "/roles", map[string]any{"name": "mine", "description": "x"}),
		} {
			assertProblem(t, r, http.StatusForbidden)
		}
		if r := azRoot(srv, me.token).do(t, "POST", "/access/v1/evaluation", azEvalReq(plainID, "read", "wiki", "1")); r.Status != http.StatusForbidden {
			t.Errorf("plain user key on /access/v1/evaluation: status %d, want 403\n%s", r.Status, r.Body)
		}

		// A role allowed evaluate on authzen:decisions makes an app's
		// service user a caller of the decision API, and nothing more.
		azCreateRole(t, admin, "pep")
		azAllow(t, admin, "role:pep", "authzen:decisions", "evaluate")
		admin.do(t, "PUT", "/users/"+plainID+"/roles/pep", nil).expect(t, http.StatusOK, http.StatusNoContent, http.StatusCreated)
		if !azCan(t, srv, me.token, target, "read", "wiki", "1") {
			t.Error("pep caller: staff read wiki:1 denied, want allowed")
		}
		if azCan(t, srv, me.token, target, "edit", "wiki", "1") {
			t.Error("pep caller: staff edit wiki:1 allowed, want denied")
		}
		assertProblem(t, me.get(t, "/policies"), http.StatusForbidden)
		assertProblem(t, me.get(t, "/users/"+target), http.StatusForbidden)
	})
}

// TestAuthzAPIKeyScopes: an API key is limited to the intersection of its
// owner's rights and its scopes.
func TestAuthzAPIKeyScopes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	azCreateRole(t, admin, "team")
	member := createUser(t, srv, "member@example.com", "member-password-1", "team")
	azAllow(t, admin, "role:team", "board:*", "read")
	rule := azRule("role:team", "board:*", "write", "allow")

	// Admin key scoped to reading policies.
	pr := api(srv, createAPIKey(t, srv, srv.AdminEmail, "policies-read", "--scope", "policies:read"))
	pr.get(t, "/policies").expect(t, http.StatusOK)
	pr.get(t, "/policies/export").expect(t, http.StatusOK)
	assertProblem(t, pr.do(t, "POST", "/policies", rule), http.StatusForbidden)
	assertProblem(t, pr.do(t, "PUT", "/policies", map[string]any{"policies": []any{}}), http.StatusForbidden)
	assertProblem(t, pr.get(t, "/users"), http.StatusForbidden)
	if r := azRoot(srv, pr.token).do(t, "POST", "/access/v1/evaluation", azEvalReq(member, "read", "board", "1")); r.Status != http.StatusForbidden {
		t.Errorf("policies:read key on /access/v1/evaluation: status %d, want 403", r.Status)
	}

	// Admin key scoped to policies:* may write policies, nothing else; and
	// (no escalation) it grants only rights within its scopes.
	pw := api(srv, createAPIKey(t, srv, srv.AdminEmail, "policies-all", "--scope", "policies:*"))
	assertProblem(t, pw.do(t, "POST", "/policies", rule), http.StatusForbidden, "board:* write")
	p := azCreatePolicy(t, pw, azRule("role:team", "policies:*", "read", "allow"))
	pw.do(t, "DELETE", "/policies/"+p.ID, nil).expect(t, http.StatusNoContent, http.StatusOK)
	assertProblem(t, pw.do(t, "POST", "/users", map[string]any{"email": "scoped@example.com", "name": "S"}), http.StatusForbidden)

	// Admin key scoped to authzen:evaluate asks for decisions, nothing else.
	ev := createAPIKey(t, srv, srv.AdminEmail, "pep", "--scope", "authzen:evaluate")
	if !azCan(t, srv, ev, member, "read", "board", "1") {
		t.Error("authzen:evaluate key: member read board:1 denied, want allowed")
	}
	assertProblem(t, api(srv, ev).get(t, "/policies"), http.StatusForbidden)
	assertProblem(t, api(srv, ev).get(t, "/users"), http.StatusForbidden)

	// Scopes never add rights: a plain user's key with policies:* or
	// authzen:evaluate gets nothing the owner lacks.
	big := api(srv, createAPIKey(t, srv, "member@example.com", "greedy", "--scope", "policies:*", "--scope", "authzen:evaluate", "--scope", "*:*"))
	assertProblem(t, big.get(t, "/policies"), http.StatusForbidden)
	assertProblem(t, big.do(t, "POST", "/policies", rule), http.StatusForbidden)
	if r := azRoot(srv, big.token).do(t, "POST", "/access/v1/evaluation", azEvalReq(member, "read", "board", "1")); r.Status != http.StatusForbidden {
		t.Errorf("plain user's scoped key on /access/v1/evaluation: status %d, want 403", r.Status)
	}
	big.get(t, "/users/"+member).expect(t, http.StatusOK) // self-service still within *:*

	// Auditor key scoped to *:read keeps reading; a narrower scope narrows.
	createUser(t, srv, "aud2@example.com", "auditor-password-2", "auditor")
	ar := api(srv, createAPIKey(t, srv, "aud2@example.com", "ro", "--scope", "*:read"))
	ar.get(t, "/users").expect(t, http.StatusOK)
	ar.get(t, "/policies").expect(t, http.StatusOK)
	ar.get(t, "/audit-events").expect(t, http.StatusOK)
	assertProblem(t, ar.do(t, "POST", "/users", map[string]any{"email": "x2@example.com", "name": "X"}), http.StatusForbidden)
	au := api(srv, createAPIKey(t, srv, "aud2@example.com", "users-only", "--scope", "users:read"))
	au.get(t, "/users").expect(t, http.StatusOK)
	assertProblem(t, au.get(t, "/policies"), http.StatusForbidden)
	assertProblem(t, au.get(t, "/audit-events"), http.StatusForbidden)

	// A key scoped away from the owner's own resources loses self-service
	// too.
	self := api(srv, createAPIKey(t, srv, "member@example.com", "keys-only", "--scope", "api-keys:read"))
	self.get(t, "/api-keys").expect(t, http.StatusOK)
	assertProblem(t, self.get(t, "/users/"+member), http.StatusForbidden)
}

// TestAuthzCustomRulesGovernAPI: the /api/v1 handlers are checked by the
// same enforcer as decisions, so rules written through the policies API
// grant and take away Gatehouse's own rights, at once.
func TestAuthzCustomRulesGovernAPI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := api(srv, srv.AdminKey(t))
	azCreateRole(t, admin, "helpdesk")
	createUser(t, srv, "hd@example.com", "helpdesk-password-1", "helpdesk")
	hd := api(srv, createAPIKey(t, srv, "hd@example.com", "hd"))
	uaID := createUser(t, srv, "ua2@example.com", "user-admin-password-2", "user-admin")
	ua := api(srv, createAPIKey(t, srv, "ua2@example.com", "ua2"))

	// A custom role gains read on users through a rule.
	assertProblem(t, hd.get(t, "/users"), http.StatusForbidden)
	grant := azAllow(t, admin, "role:helpdesk", "users:*", "read")
	hd.get(t, "/users").expect(t, http.StatusOK)
	assertProblem(t, hd.do(t, "POST", "/users", map[string]any{"email": "by-hd@example.com", "name": "By HD"}), http.StatusForbidden)
	admin.do(t, "DELETE", "/policies/"+grant.ID, nil).expect(t, http.StatusNoContent, http.StatusOK)
	assertProblem(t, hd.get(t, "/users"), http.StatusForbidden)

	// A deny on one user-admin wins over the built-in user-admin rights.
	var victim userDTO
	ua.do(t, "POST", "/users", map[string]any{"email": "victim@example.com", "name": "Victim"}).expect(t, http.StatusCreated).decode(t, &victim)
	d := azDeny(t, admin, "user:"+uaID, "users:*", "delete")
	assertProblem(t, ua.do(t, "DELETE", "/users/"+victim.ID, nil), http.StatusForbidden)
	ua.do(t, "PATCH", "/users/"+victim.ID, map[string]any{"name": "Still editable"}).expect(t, http.StatusOK)
	admin.do(t, "DELETE", "/policies/"+d.ID, nil).expect(t, http.StatusNoContent, http.StatusOK)
	ua.do(t, "DELETE", "/users/"+victim.ID, nil).expect(t, http.StatusNoContent, http.StatusOK)
}

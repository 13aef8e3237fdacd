package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/web"
)

// builtInRules decides as the authz module's built-in rules do: admin may do
// everything; user-admin manages users, roles and assignments but cannot
// grant admin; auditor reads everything; every user reads and updates their
// own user.
func builtInRules(roles *identity.Service) func(context.Context, principal.Principal, principal.Resource, string) (bool, error) {
	return func(ctx context.Context, p principal.Principal, res principal.Resource, action string) (bool, error) {
		if !p.IsUser() {
			return false, nil
		}
		held, err := roles.RolesOf(ctx, p.ID)
		if err != nil {
			return false, err
		}
		switch {
		case slices.Contains(held, "admin"):
			return true, nil
		case slices.Contains(held, "user-admin") && (res.Type == "users" || res.Type == "roles"):
			return !(action == "assign" && res.ID == "admin"), nil
		case slices.Contains(held, "auditor") && action == "read":
			return true, nil
		}
		return res.Type == "users" && res.OwnerID != "" && res.OwnerID == p.ID && (action == "read" || action == "update"), nil
	}
}

// builtInGrants answers the no-escalation questions as the authz module
// does for the built-in rules: a role's rights are admin "*", user-admin
// "users" and "roles", auditor "*:read", others none; a principal covers a
// set of rights when it holds "*" or each of them.
type builtInGrants struct{ roles *identity.Service }

func roleRights(role string) []string {
	switch role {
	case "admin":
		return []string{"*"}
	case "user-admin":
		return []string{"users", "roles"}
	case "auditor":
		return []string{"*:read"}
	}
	return nil
}

func (g builtInGrants) held(ctx context.Context, p principal.Principal) ([]string, error) {
	if p.Kind == principal.System {
		return []string{"*"}, nil
	}
	if !p.IsUser() || p.Scopes != nil { // the fixture's scoped keys hold less than their owner
		return nil, nil
	}
	roles, err := g.roles.RolesOf(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range roles {
		out = append(out, roleRights(r)...)
	}
	return out, nil
}

func covered(held, want []string) bool {
	if slices.Contains(held, "*") {
		return true
	}
	for _, w := range want {
		if !slices.Contains(held, w) {
			return false
		}
	}
	return true
}

func (g builtInGrants) CoversRole(ctx context.Context, p principal.Principal, role string) (bool, error) {
	held, err := g.held(ctx, p)
	return err == nil && covered(held, roleRights(role)), err
}

// CoversRoleRemoval: the built-in roles carry no deny rules.
func (g builtInGrants) CoversRoleRemoval(context.Context, principal.Principal, string) (bool, error) {
	return true, nil
}

func (g builtInGrants) CoversUser(ctx context.Context, p principal.Principal, id string) (bool, error) {
	held, err := g.held(ctx, p)
	if err != nil {
		return false, err
	}
	roles, err := g.roles.RolesOf(ctx, id)
	if errors.Is(err, identity.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var want []string
	for _, r := range roles {
		want = append(want, roleRights(r)...)
	}
	return covered(held, want), nil
}

// apiFixture is a real server with the identity module mounted; tokens are
// the user names ("admin", "uadmin", "auditor", "alice", "bob"), and
// "{name}" in paths and bodies is that user's id.
type apiFixture struct {
	t   testing.TB
	db  database.DB
	svc *identity.Service
	api *testutil.API
	srv struct{ URL string }
	ids map[string]string // token name → user id
}

func newAPIFixture(t testing.TB, db database.DB) *apiFixture {
	t.Helper()
	svc, _ := newService(t, db)
	return newAPIFixtureOn(t, db, svc)
}

// newAPIFixtureOn is newAPIFixture over a service the test built (one with
// a mailer, say).
func newAPIFixtureOn(t testing.TB, db database.DB, svc *identity.Service) *apiFixture {
	t.Helper()
	renderer, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	authz := &testutil.FakeAuthorizer{Decide: builtInRules(svc)}
	api := testutil.NewAPI(t, httpserver.Options{ErrorPage: renderer},
		identity.NewModule(svc, identity.ModuleOptions{Authorizer: authz, Grants: builtInGrants{roles: svc}, Pages: renderer, Logger: logging.Discard()}))
	f := &apiFixture{t: t, db: db, svc: svc, api: api, ids: api.Vars}
	f.srv.URL = api.URL
	for name, roles := range map[string][]string{
		"admin": {"admin"}, "uadmin": {"user-admin"}, "auditor": {"auditor"}, "alice": nil, "bob": nil,
	} {
		u := mustCreate(t, svc, identity.NewUser{Email: name + "@example.com", Name: strings.ToUpper(name[:1]) + name[1:], Roles: roles, Password: "old " + name + " passphrase"})
		f.ids[name] = u.ID
		api.User(name, u.ID)
	}
	api.User("alice-readonly", f.ids["alice"], "users:read")
	api.User("alice-update", f.ids["alice"], "users:update")
	api.Fingerprint = f.fingerprint
	return f
}

func (f *apiFixture) do(method, path, body, token string) (int, http.Header, string) {
	f.t.Helper()
	res := f.api.Do(f.t, method, path, token, body)
	return res.Status, res.Header, res.Body
}

// fingerprint summarizes the module's tables and the audit log, to prove a
// rejected request changed nothing.
func (f *apiFixture) fingerprint() string {
	var parts []string
	for _, q := range []string{
		"SELECT COUNT(*) FROM identity_users",
		"SELECT COUNT(*) FROM identity_user_roles",
		"SELECT COUNT(*) FROM identity_roles",
		"SELECT COUNT(*) FROM audit_events",
		"SELECT MAX(updated_at) FROM identity_users",
		"SELECT MAX(updated_at) FROM identity_roles",
		"SELECT COUNT(*) FROM identity_users WHERE status = 'disabled'",
		"SELECT COUNT(DISTINCT password_hash) FROM identity_users",
		"SELECT COUNT(DISTINCT description) FROM identity_roles",
		"SELECT COUNT(*) FROM identity_email_tokens",
	} {
		var v string
		f.db.Gorm.Raw(q).Row().Scan(&v)
		parts = append(parts, v)
	}
	return strings.Join(parts, "|")
}

func TestUsersAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		f := newAPIFixture(t, db)
		long := func(n int) string { return strings.Repeat("x", n) }
		cases := []struct {
			name, method, path, body, principal string
			wantStatus                          int
			wantContains                        string
		}{
			{"no credential", "GET", "/users", "", "", 401, "bearer"},
			{"bad credential", "GET", "/users", "", "nope", 401, "invalid"},
			{"admin creates", "POST", "/users", `{"email":"New@Example.com","name":"New","username":"newbie","password":"correct horse battery staple","roles":["auditor"]}`, "admin", 201, `"email":"New@Example.com"`},
			{"created shape", "GET", "/users?q=new@", "", "admin", 200, `"username":"newbie","name":"New","status":"active","email_verified":false,"roles":["auditor"],"created_at":`},
			{"plain user cannot create", "POST", "/users", `{"email":"x@example.com","name":"X"}`, "alice", 403, "may not create"},
			{"auditor cannot create", "POST", "/users", `{"email":"x@example.com","name":"X"}`, "auditor", 403, "may not create"},
			{"duplicate email", "POST", "/users", `{"email":"NEW@example.com","name":"Dup"}`, "admin", 409, "already exists"},
			{"duplicate username", "POST", "/users", `{"email":"other@example.com","username":"NEWBIE"}`, "admin", 409, "username"},
			{"invalid email", "POST", "/users", `{"email":"not an email","name":"X"}`, "admin", 422, "body.email"},
			{"missing email", "POST", "/users", `{"name":"X"}`, "admin", 422, "email"},
			{"malformed json", "POST", "/users", `{"email":`, "admin", 400, ""},
			{"wrong type", "POST", "/users", `{"email":5,"name":"X"}`, "admin", 422, "body.email"},
			{"unknown field", "POST", "/users", `{"email":"u@example.com","is_admin":true}`, "admin", 422, "is_admin"},
			{"oversized body", "POST", "/users", `{"email":"big@example.com","name":"` + long(40000) + `"}`, "admin", 413, ""},
			{"overlong name", "POST", "/users", `{"email":"n@example.com","name":"` + long(201) + `"}`, "admin", 422, "body.name"},
			{"overlong email", "POST", "/users", `{"email":"` + long(250) + `@example.com"}`, "admin", 422, "body.email"},
			{"bad username", "POST", "/users", `{"email":"u@example.com","username":"no spaces"}`, "admin", 422, "body.username"},
			{"common password", "POST", "/users", `{"email":"p@example.com","password":"password123"}`, "admin", 422, "body.password"},
			{"short password", "POST", "/users", `{"email":"p@example.com","password":"abc"}`, "admin", 422, "at least 8"},
			{"unknown role", "POST", "/users", `{"email":"r@example.com","roles":["wizard"]}`, "admin", 422, "body.roles"},
			{"user-admin cannot grant admin", "POST", "/users", `{"email":"r@example.com","roles":["admin"]}`, "uadmin", 403, "roles:admin"},
			// No escalation: a role is given only by whoever holds all it grants.
			{"user-admin cannot create an auditor", "POST", "/users", `{"email":"aud2@example.com","roles":["auditor"]}`, "uadmin", 403, "rights you do not hold"},
			{"user-admin creates a user-admin", "POST", "/users", `{"email":"ua2@example.com","roles":["user-admin"]}`, "uadmin", 201, `"roles":["user-admin"]`},
			{"machine with password", "POST", "/users", `{"email":"bot@example.com","machine":true,"password":"correct horse battery staple"}`, "admin", 422, "body.password"},
			{"machine user", "POST", "/users", `{"email":"bot@example.com","name":"Bot","machine":true}`, "admin", 201, `"email":"bot@example.com"`},

			{"read self", "GET", "/users/{alice}", "", "alice", 200, `"id":"{alice}"`},
			{"read other", "GET", "/users/{bob}", "", "alice", 403, "may not read"},
			{"auditor reads", "GET", "/users/{alice}", "", "auditor", 200, `"email":"alice@example.com"`},
			{"unknown id", "GET", "/users/0190c3a0-0000-7000-8000-000000000000", "", "admin", 404, "not found"},
			{"scoped key reads self", "GET", "/users/{alice}", "", "alice-readonly", 200, "alice@example.com"},
			{"scoped key cannot update", "PATCH", "/users/{alice}", `{"name":"A"}`, "alice-readonly", 403, ""},

			{"list", "GET", "/users", "", "admin", 200, `"next_page_token":""`},
			{"list forbidden", "GET", "/users", "", "alice", 403, ""},
			{"list filter role", "GET", "/users?role=user-admin", "", "auditor", 200, "uadmin@example.com"},
			{"list page too big", "GET", "/users?page_size=500", "", "admin", 422, "page_size"},
			{"list bad status", "GET", "/users?status=gone", "", "admin", 422, "status"},
			{"list bad token", "GET", "/users?page_token=!!", "", "admin", 400, "page_token"},

			{"update own name", "PATCH", "/users/{alice}", `{"name":"Alice W","username":"alice"}`, "alice", 200, `"name":"Alice W"`},
			{"cannot change own status", "PATCH", "/users/{alice}", `{"status":"disabled"}`, "alice", 403, ""},
			{"cannot verify own email", "PATCH", "/users/{alice}", `{"email_verified":true}`, "alice", 403, ""},
			{"cannot update other", "PATCH", "/users/{bob}", `{"name":"B"}`, "alice", 403, ""},
			{"patch unknown field", "PATCH", "/users/{alice}", `{"roles":["admin"]}`, "alice", 422, "roles"},
			{"patch bad status", "PATCH", "/users/{bob}", `{"status":"gone"}`, "admin", 422, "status"},
			{"patch duplicate email", "PATCH", "/users/{bob}", `{"email":"ALICE@example.com"}`, "admin", 409, ""},
			{"patch invalid email", "PATCH", "/users/{bob}", `{"email":"bob@"}`, "admin", 422, "body.email"},
			{"patch unknown id", "PATCH", "/users/nope", `{"name":"x"}`, "admin", 404, ""},
			{"user-admin disables", "PATCH", "/users/{bob}", `{"status":"disabled"}`, "uadmin", 200, `"status":"disabled"`},
			{"user-admin enables", "PATCH", "/users/{bob}", `{"status":"active","email_verified":true}`, "uadmin", 200, `"email_verified":true`},
			{"user-admin cannot edit an admin", "PATCH", "/users/{admin}", `{"email":"mine@example.com"}`, "uadmin", 403, "rights you do not hold"},
			{"user-admin cannot disable an admin", "PATCH", "/users/{admin}", `{"status":"disabled"}`, "uadmin", 403, "rights you do not hold"},
			{"user-admin cannot set an admin's password", "PUT", "/users/{admin}/password", `{"password":"a much better passphrase"}`, "uadmin", 403, "rights you do not hold"},
			{"user-admin cannot delete an admin", "DELETE", "/users/{admin}", "", "uadmin", 403, "rights you do not hold"},
			{"user-admin cannot disable an auditor", "PATCH", "/users/{auditor}", `{"status":"disabled"}`, "uadmin", 403, "rights you do not hold"},
			{"user-admin cannot change an auditor's email", "PATCH", "/users/{auditor}", `{"email":"mine@example.com"}`, "uadmin", 403, "rights you do not hold"},
			{"user-admin cannot set an auditor's password", "PUT", "/users/{auditor}/password", `{"password":"a much better passphrase"}`, "uadmin", 403, "rights you do not hold"},
			{"user-admin cannot delete an auditor", "DELETE", "/users/{auditor}", "", "uadmin", 403, "rights you do not hold"},
			{"user-admin sets a plain user's password", "PUT", "/users/{bob}/password", `{"password":"bob's uadmin passphrase"}`, "uadmin", 204, ""},
			{"admin edits self", "PATCH", "/users/{admin}", `{"name":"The Admin"}`, "admin", 200, `"name":"The Admin"`},
			{"last admin not disabled", "PATCH", "/users/{admin}", `{"status":"disabled"}`, "admin", 409, "last active admin"},

			// One's own credentials need the current password (a stolen key
			// or session must not take the account over).
			{"own password without current", "PUT", "/users/{alice}/password", `{"password":"a much better passphrase"}`, "alice", 403, "current_password"},
			{"own password with wrong current", "PUT", "/users/{alice}/password", `{"password":"a much better passphrase","current_password":"guess"}`, "alice", 403, "not correct"},
			{"scoped key cannot take over", "PUT", "/users/{alice}/password", `{"password":"a much better passphrase"}`, "alice-update", 403, "current_password"},
			{"own email without current", "PATCH", "/users/{alice}", `{"email":"mallory@example.com"}`, "alice-update", 403, "current_password"},
			{"own email with wrong current", "PATCH", "/users/{alice}", `{"email":"mallory@example.com","current_password":"guess"}`, "alice", 403, "not correct"},
			{"own email with current", "PATCH", "/users/{alice}", `{"email":"alice2@example.com","current_password":"old alice passphrase"}`, "alice", 200, `"email":"alice2@example.com"`},
			{"set own password", "PUT", "/users/{alice}/password", `{"password":"a much better passphrase","current_password":"old alice passphrase"}`, "alice", 204, ""},
			{"old password is gone", "PUT", "/users/{alice}/password", `{"password":"yet another passphrase","current_password":"old alice passphrase"}`, "alice", 403, "not correct"},
			{"set other's password", "PUT", "/users/{bob}/password", `{"password":"a much better passphrase"}`, "alice", 403, ""},
			{"weak password", "PUT", "/users/{alice}/password", `{"password":"qwertyuiop","current_password":"a much better passphrase"}`, "alice", 422, "body.password"},
			{"password equals email", "PUT", "/users/{alice}/password", `{"password":"alice2@example.com","current_password":"a much better passphrase"}`, "alice", 422, "body.password"},
			{"password too long", "PUT", "/users/{alice}/password", `{"password":"` + long(300) + `","current_password":"a much better passphrase"}`, "alice", 422, "password"},
			{"admin sets a password without current", "PUT", "/users/{bob}/password", `{"password":"bob's new passphrase"}`, "admin", 204, ""},
			{"password unknown user", "PUT", "/users/nope/password", `{"password":"a much better passphrase"}`, "admin", 404, ""},

			{"user-admin cannot assign auditor", "PUT", "/users/{bob}/roles/auditor", "", "uadmin", 403, "rights you do not hold"},
			{"assign role", "PUT", "/users/{bob}/roles/auditor", "", "admin", 200, `"roles":["auditor"]`},
			{"assign again is a no-op", "PUT", "/users/{bob}/roles/auditor", "", "admin", 200, `"roles":["auditor"]`},
			{"user-admin cannot disable bob the auditor", "PATCH", "/users/{bob}", `{"status":"disabled"}`, "uadmin", 403, "rights you do not hold"},
			{"user-admin cannot assign admin", "PUT", "/users/{bob}/roles/admin", "", "uadmin", 403, ""},
			{"self cannot assign", "PUT", "/users/{alice}/roles/auditor", "", "alice", 403, ""},
			{"assign unknown role", "PUT", "/users/{bob}/roles/wizard", "", "admin", 404, "role not found"},
			{"assign to unknown user", "PUT", "/users/nope/roles/auditor", "", "admin", 404, "user not found"},
			{"unassign role", "DELETE", "/users/{bob}/roles/auditor", "", "uadmin", 200, `"roles":[]`},
			{"last admin keeps admin", "DELETE", "/users/{admin}/roles/admin", "", "admin", 409, "last active admin"},

			{"delete forbidden", "DELETE", "/users/{bob}", "", "alice", 403, ""},
			{"delete self forbidden", "DELETE", "/users/{alice}", "", "alice", 403, ""},
			{"delete last admin", "DELETE", "/users/{admin}", "", "admin", 409, "last active admin"},
			{"delete", "DELETE", "/users/{bob}", "", "uadmin", 204, ""},
			{"delete unknown", "DELETE", "/users/{bob}", "", "admin", 404, ""},

			{"list roles", "GET", "/roles", "", "auditor", 200, `{"name":"admin","description":"Full control of Gatehouse."}`},
			{"roles forbidden", "GET", "/roles", "", "alice", 403, ""},
			{"create role", "POST", "/roles", `{"name":"billing","description":"Billing staff"}`, "uadmin", 201, `{"name":"billing","description":"Billing staff"}`},
			{"duplicate role", "POST", "/roles", `{"name":"billing"}`, "admin", 409, ""},
			{"invalid role name", "POST", "/roles", `{"name":"Not A Slug"}`, "admin", 422, "body.name"},
			{"overlong description", "POST", "/roles", `{"name":"x1","description":"` + long(501) + `"}`, "admin", 422, "description"},
			{"auditor cannot create role", "POST", "/roles", `{"name":"x2"}`, "auditor", 403, ""},
			{"get role", "GET", "/roles/billing", "", "auditor", 200, `"name":"billing"`},
			{"get unknown role", "GET", "/roles/nope", "", "admin", 404, ""},
			{"patch role", "PATCH", "/roles/billing", `{"description":"Billing team"}`, "uadmin", 200, `"description":"Billing team"`},
			{"patch unknown role", "PATCH", "/roles/nope", `{"description":"x"}`, "admin", 404, ""},
			{"delete built-in", "DELETE", "/roles/auditor", "", "admin", 409, "built-in"},
			{"delete role", "DELETE", "/roles/billing", "", "uadmin", 204, ""},
			{"delete unknown role", "DELETE", "/roles/billing", "", "admin", 404, ""},
		}
		fp := f.fingerprint()
		if _, err := f.svc.UpdateUser(sysCtx(), f.ids["bob"], identity.UserUpdate{Name: ptr("Bobby")}); err != nil {
			t.Fatal(err)
		}
		if f.fingerprint() == fp {
			t.Fatal("fingerprint misses a profile change")
		}
		for _, c := range cases {
			// Every refused request must leave the tables as they were.
			f.api.Run(t, testutil.Scenario{
				Name: c.name, Method: c.method, Path: c.path, Body: c.body, Token: c.principal,
				WantStatus: c.wantStatus, WantContains: []string{c.wantContains}, Unchanged: c.wantStatus >= 400,
			})
		}
	})
}

func TestListUsersPagination(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		f := newAPIFixture(t, db)
		for i := 0; i < 7; i++ {
			var roles []string
			if i%2 == 0 {
				roles = []string{"auditor"}
			}
			mustCreate(t, f.svc, identity.NewUser{Email: fmt.Sprintf("page%d@example.com", i), Name: fmt.Sprintf("Zed %d", i), Roles: roles})
		}
		seen := map[string]bool{}
		token, pages := "", 0
		var last string
		for {
			status, _, body := f.do("GET", "/users?page_size=3&page_token="+token, "", "admin")
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			var page struct {
				Items []struct {
					ID, Email string
				} `json:"items"`
				NextPageToken string `json:"next_page_token"`
			}
			if err := json.Unmarshal([]byte(body), &page); err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range page.Items {
				if seen[it.ID] || it.ID <= last {
					t.Fatalf("page %d: %s repeated or out of order", pages, it.ID)
				}
				seen[it.ID], last = true, it.ID
			}
			if page.NextPageToken == "" {
				break
			}
			token = page.NextPageToken
		}
		if len(seen) != 12 || pages != 4 {
			t.Fatalf("%d users over %d pages, want 12 over 4", len(seen), pages)
		}
		// Search is a case-insensitive prefix of email or name.
		for q, want := range map[string]int{"PAGE": 7, "zed 1": 1, "alice": 1, "Ali": 1, "example": 0, "%": 0, "_": 0} {
			page, err := f.svc.ListUsers(context.Background(), identity.UserFilter{Query: q})
			if err != nil || len(page.Items) != want {
				t.Fatalf("q=%q: %d items (%v), want %d", q, len(page.Items), err, want)
			}
		}
		// The role filter pages too: the fixture's auditor and four others.
		var auditors []string
		filter := identity.UserFilter{Role: "auditor", PageSize: 2}
		for {
			page, err := f.svc.ListUsers(context.Background(), filter)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.Items {
				if !u.HasRole("auditor") || (len(auditors) > 0 && u.ID <= auditors[len(auditors)-1]) {
					t.Fatalf("role page: %+v after %v", u, auditors)
				}
				auditors = append(auditors, u.ID)
			}
			if page.NextPageToken == "" {
				break
			}
			filter.PageToken = page.NextPageToken
		}
		if len(auditors) != 5 {
			t.Fatalf("%d auditors listed, want 5", len(auditors))
		}
		page, err := f.svc.ListUsers(context.Background(), identity.UserFilter{Role: "admin", Status: "active"})
		if err != nil || len(page.Items) != 1 || page.Items[0].Email != "admin@example.com" {
			t.Fatalf("role filter: %+v %v", page.Items, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestNoGrantsFailsClosed: a module built without Grants cannot rule out
// escalation, so role grants and changes to other users fail (500) and
// change nothing; the rest of the API works.
func TestNoGrantsFailsClosed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc, _ := newService(t, db)
		api := testutil.NewAPI(t, httpserver.Options{},
			identity.NewModule(svc, identity.ModuleOptions{Authorizer: &testutil.FakeAuthorizer{Decide: builtInRules(svc)}, Logger: logging.Discard()}))
		admin := mustCreate(t, svc, identity.NewUser{Email: "admin@example.com", Roles: []string{"admin"}})
		bob := mustCreate(t, svc, identity.NewUser{Email: "bob@example.com"})
		api.User("admin", admin.ID)
		api.Vars["bob"] = bob.ID
		api.Run(t,
			testutil.Scenario{Name: "list works", Method: "GET", Path: "/users", Token: "admin", WantStatus: 200},
			testutil.Scenario{Name: "assign fails closed", Method: "PUT", Path: "/users/{bob}/roles/auditor", Token: "admin", WantStatus: 500},
			testutil.Scenario{Name: "disable fails closed", Method: "PATCH", Path: "/users/{bob}", Body: `{"status":"disabled"}`, Token: "admin", WantStatus: 500},
			testutil.Scenario{Name: "delete fails closed", Method: "DELETE", Path: "/users/{bob}", Token: "admin", WantStatus: 500},
		)
		if u, err := svc.UserByID(context.Background(), bob.ID); err != nil || u.Status != "active" || len(u.Roles) != 0 {
			t.Fatalf("bob changed: %+v %v", u, err)
		}
	})
}

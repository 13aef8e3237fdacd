package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAPIKeyAuthentication: a key made with `apikeys create` authenticates;
// a bad, missing or malformed credential answers 401 problem+json with
// WWW-Authenticate.
func TestAPIKeyAuthentication(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	key := srv.AdminKey(t)
	if !strings.HasPrefix(key, "gh_") {
		t.Errorf("API key %q does not start with gh_", key)
	}
	api(srv, key).get(t, "/users").expect(t, http.StatusOK)

	for name, token := range map[string]string{
		"unknown key":      "gh_" + randomHex(20),
		"tampered key":     key[:len(key)-2] + "xx",
		"not a key or jwt": "nonsense",
		"none":             "",
	} {
		t.Run(name, func(t *testing.T) {
			r := api(srv, token).get(t, "/users")
			assertProblem(t, r, http.StatusUnauthorized)
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestUsersCRUD walks the users API with an admin key on both databases.
func TestUsersCRUD(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db dbKind) {
		srv := startServer(t, serverOpts{DB: db})
		c := api(srv, srv.AdminKey(t))

		// Create.
		var ada userDTO
		c.do(t, "POST", "/users", map[string]any{"email": "ada@example.com", "name": "Ada Lovelace", "password": "correct horse battery staple"}).
			expect(t, http.StatusCreated).decode(t, &ada)
		if ada.ID == "" || ada.Email != "ada@example.com" || ada.Name != "Ada Lovelace" || ada.Status != "active" || ada.CreatedAt == "" {
			t.Fatalf("created user = %+v", ada)
		}
		var got userDTO
		c.get(t, "/users/"+ada.ID).expect(t, http.StatusOK).decode(t, &got)
		if got.ID != ada.ID || got.Email != ada.Email {
			t.Errorf("GET /users/%s = %+v, want %+v", ada.ID, got, ada)
		}
		if strings.Contains(string(c.get(t, "/users/"+ada.ID).Body), "correct horse") {
			t.Error("the user resource reveals the password")
		}

		// Client mistakes are 4xx problems, never 5xx.
		assertProblem(t, c.do(t, "POST", "/users", map[string]any{"email": "ADA@example.com", "name": "Ada again"}), http.StatusConflict)
		assertProblemIn(t, c.do(t, "POST", "/users", map[string]any{"email": "not-an-email", "name": "X"}),
			[]int{http.StatusBadRequest, http.StatusUnprocessableEntity}, "email")
		assertProblemIn(t, c.do(t, "POST", "/users", map[string]any{"email": "x@example.com", "name": "X", "is_admin": true}),
			[]int{http.StatusBadRequest, http.StatusUnprocessableEntity}, "is_admin")
		assertProblemIn(t, c.do(t, "POST", "/users", `{"email": "x@example.com", "name": `),
			[]int{http.StatusBadRequest, http.StatusUnprocessableEntity})
		huge := fmt.Sprintf(`{"email": "big@example.com", "name": %q}`, strings.Repeat("a", 2<<20))
		assertProblem(t, c.do(t, "POST", "/users", huge), http.StatusRequestEntityTooLarge)
		assertProblem(t, c.get(t, "/users/0192f0c1-7d0a-7000-8000-000000000000"), http.StatusNotFound)
		assertProblem(t, c.get(t, "/users/not-a-uuid"), http.StatusNotFound)

		// List and pagination: page_size 3 over admin + ada + 8 more.
		want := map[string]bool{ada.ID: true}
		for i := 0; i < 8; i++ {
			var u userDTO
			c.do(t, "POST", "/users", map[string]any{"email": fmt.Sprintf("user%02d@example.com", i), "name": fmt.Sprintf("User %d", i)}).
				expect(t, http.StatusCreated).decode(t, &u)
			want[u.ID] = true
		}
		seen := map[string]bool{}
		token, pages := "", 0
		for {
			q := url.Values{"page_size": {"3"}}
			if token != "" {
				q.Set("page_token", token)
			}
			var p page[userDTO]
			c.get(t, "/users?"+q.Encode()).expect(t, http.StatusOK).decode(t, &p)
			pages++
			if len(p.Items) > 3 {
				t.Fatalf("page of %d items with page_size 3", len(p.Items))
			}
			for _, u := range p.Items {
				if seen[u.ID] {
					t.Fatalf("user %s appears on two pages", u.ID)
				}
				seen[u.ID] = true
			}
			if p.NextPageToken == "" {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			token = p.NextPageToken
		}
		if len(seen) != 10 || pages < 4 {
			t.Errorf("walked %d users on %d pages, want 10 users on 4 pages", len(seen), pages)
		}
		for id := range want {
			if !seen[id] {
				t.Errorf("user %s missing from the list", id)
			}
		}
		assertProblemIn(t, c.get(t, "/users?page_token=garbage!"), []int{http.StatusBadRequest, http.StatusUnprocessableEntity})
		assertProblemIn(t, c.get(t, "/users?page_size=100000"), []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, "page_size")

		// Update and disable.
		c.do(t, "PATCH", "/users/"+ada.ID, map[string]any{"name": "Countess Lovelace"}).expect(t, http.StatusOK).decode(t, &got)
		if got.Name != "Countess Lovelace" {
			t.Errorf("PATCH name: got %+v", got)
		}
		c.do(t, "PATCH", "/users/"+ada.ID, map[string]any{"status": "disabled"}).expect(t, http.StatusOK).decode(t, &got)
		if got.Status != "disabled" {
			t.Errorf("PATCH status disabled: got %+v", got)
		}
		assertProblemIn(t, c.do(t, "PATCH", "/users/"+ada.ID, map[string]any{"status": "sleeping"}),
			[]int{http.StatusBadRequest, http.StatusUnprocessableEntity}, "status")

		// Roles: assign and unassign.
		c.do(t, "PUT", "/users/"+ada.ID+"/roles/auditor", nil).expect(t, http.StatusOK, http.StatusNoContent, http.StatusCreated)
		c.get(t, "/users/"+ada.ID).expect(t, http.StatusOK).decode(t, &got)
		if !contains(got.Roles, "auditor") {
			t.Errorf("after PUT roles/auditor, roles = %v", got.Roles)
		}
		assertProblemIn(t, c.do(t, "PUT", "/users/"+ada.ID+"/roles/no-such-role", nil), []int{http.StatusNotFound, http.StatusBadRequest, http.StatusUnprocessableEntity})
		c.do(t, "DELETE", "/users/"+ada.ID+"/roles/auditor", nil).expect(t, http.StatusOK, http.StatusNoContent)
		c.get(t, "/users/"+ada.ID).expect(t, http.StatusOK).decode(t, &got)
		if contains(got.Roles, "auditor") {
			t.Errorf("after DELETE roles/auditor, roles = %v", got.Roles)
		}

		// The audit log recorded the creation.
		var events page[auditEventDTO]
		api(srv, srv.AdminKey(t)).get(t, "/audit-events?action=user.create&page_size=200").expect(t, http.StatusOK).decode(t, &events)
		found := false
		for _, e := range events.Items {
			if e.Action != "user.create" {
				t.Errorf("filter action=user.create returned %+v", e)
			}
			if e.Target.ID == ada.ID && e.Target.Type == "user" && e.Outcome == "success" {
				found = true
			}
		}
		if !found {
			t.Errorf("no user.create audit event for %s in %+v", ada.ID, events.Items)
		}

		// The last admin can be neither disabled nor stripped of admin.
		var admin userDTO
		var all page[userDTO]
		c.get(t, "/users?page_size=200").expect(t, http.StatusOK).decode(t, &all)
		for _, u := range all.Items {
			if u.Email == srv.AdminEmail {
				admin = u
			}
		}
		if admin.ID == "" {
			t.Fatalf("bootstrap admin %s not listed", srv.AdminEmail)
		}
		assertProblem(t, c.do(t, "PATCH", "/users/"+admin.ID, map[string]any{"status": "disabled"}), http.StatusConflict)
		assertProblem(t, c.do(t, "DELETE", "/users/"+admin.ID+"/roles/admin", nil), http.StatusConflict)
		c.get(t, "/users?page_size=1").expect(t, http.StatusOK) // the admin key still works

	})
}

// auditEventDTO is the CONTRACT's audit event.
type auditEventDTO struct {
	ID     string `json:"id"`
	Time   string `json:"time"`
	Action string `json:"action"`
	Actor  struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"actor"`
	Target struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"target"`
	Outcome   string `json:"outcome"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
}

// TestRolePermissions: an auditor reads but changes nothing; a plain user
// reads only themself; user-admin manages users but cannot grant admin.
func TestRolePermissions(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	adminID := ""
	var all page[userDTO]
	api(srv, srv.AdminKey(t)).get(t, "/users?page_size=200").expect(t, http.StatusOK).decode(t, &all)
	for _, u := range all.Items {
		if u.Email == srv.AdminEmail {
			adminID = u.ID
		}
	}

	createUser(t, srv, "audrey@example.com", "auditor-password-1", "auditor")
	auditor := api(srv, createAPIKey(t, srv, "audrey@example.com", "audit"))
	auditor.get(t, "/users").expect(t, http.StatusOK)
	auditor.get(t, "/audit-events").expect(t, http.StatusOK)
	assertProblem(t, auditor.do(t, "POST", "/users", map[string]any{"email": "new@example.com", "name": "New"}), http.StatusForbidden)
	assertProblem(t, auditor.do(t, "PATCH", "/users/"+adminID, map[string]any{"name": "Hacked"}), http.StatusForbidden)

	plainID := createUser(t, srv, "pat@example.com", "plain-user-password-1")
	plain := api(srv, createAPIKey(t, srv, "pat@example.com", "mine"))
	var me userDTO
	plain.get(t, "/users/"+plainID).expect(t, http.StatusOK).decode(t, &me)
	if me.Email != "pat@example.com" {
		t.Errorf("self read = %+v", me)
	}
	assertProblem(t, plain.get(t, "/users/"+adminID), http.StatusForbidden)
	assertProblem(t, plain.do(t, "PUT", "/users/"+plainID+"/roles/admin", nil), http.StatusForbidden)
	assertProblem(t, plain.get(t, "/audit-events"), http.StatusForbidden)

	createUser(t, srv, "uma@example.com", "user-admin-password-1", "user-admin")
	ua := api(srv, createAPIKey(t, srv, "uma@example.com", "ua"))
	var made userDTO
	ua.do(t, "POST", "/users", map[string]any{"email": "made-by-ua@example.com", "name": "By UA"}).expect(t, http.StatusCreated).decode(t, &made)
	// No escalation: auditor reads clients, policies and the audit log,
	// which a user-admin does not; user-admin it holds.
	assertProblem(t, ua.do(t, "PUT", "/users/"+made.ID+"/roles/auditor", nil), http.StatusForbidden)
	ua.do(t, "PUT", "/users/"+made.ID+"/roles/user-admin", nil).expect(t, http.StatusOK, http.StatusNoContent, http.StatusCreated)
	assertProblem(t, ua.do(t, "PUT", "/users/"+made.ID+"/roles/admin", nil), http.StatusForbidden)

	// A scoped key gets at most its scopes.
	ro := api(srv, createAPIKey(t, srv, srv.AdminEmail, "read-only", "--scope", "users:read"))
	ro.get(t, "/users").expect(t, http.StatusOK)
	assertProblem(t, ro.do(t, "POST", "/users", map[string]any{"email": "scoped@example.com", "name": "S"}), http.StatusForbidden)
}

// TestAPIKeyRevocation: a revoked key stops working at once; the list never
// shows a secret.
func TestAPIKeyRevocation(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	createUser(t, srv, "rev@example.com", "revocation-password-1")
	secret := createAPIKey(t, srv, "rev@example.com", "to-revoke")
	c := api(srv, secret)
	r := c.get(t, "/api-keys").expect(t, http.StatusOK)
	if strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), secret[3:]) {
		t.Fatal("the API key list reveals the secret")
	}
	var keys page[struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}]
	r.decode(t, &keys)
	id := ""
	for _, k := range keys.Items {
		if k.Name == "to-revoke" {
			id = k.ID
		}
	}
	if id == "" {
		t.Fatalf("key to-revoke not in its owner's list: %s", r.Body)
	}
	api(srv, srv.AdminKey(t)).do(t, "DELETE", "/api-keys/"+id, nil).expect(t, http.StatusOK, http.StatusNoContent)
	assertProblem(t, c.get(t, "/users"), http.StatusUnauthorized)
	assertProblem(t, c.get(t, "/api-keys"), http.StatusUnauthorized)

	// An expired key is refused too.
	short := createAPIKey(t, srv, "rev@example.com", "short", "--expires-in", "1s")
	waitUntil(t, func() bool { return api(srv, short).get(t, "/api-keys").Status == http.StatusUnauthorized })
}

package apikeys_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/apikeys"
)

type httpEnv struct {
	*env
	api        *testutil.API
	alice, bob string
}

// newHTTPEnv mounts the module on a real server: "admin" may do anything,
// everyone may manage their own keys, and unknown tokens are tried as API
// keys.
func newHTTPEnv(t *testing.T, db database.DB) *httpEnv {
	t.Helper()
	e := newEnv(t, db)
	h := &httpEnv{env: e}
	h.alice = e.user(t, "alice@example.com", false).ID
	h.bob = e.user(t, "bob@example.com", false).ID
	authz := &testutil.FakeAuthorizer{
		Grants:       map[string][]string{"admin": {"*:*"}},
		OwnerActions: []string{"create", "read", "update", "delete", "revoke"},
	}
	h.api = testutil.NewAPI(t, httpserver.Options{Bearer: e.svc}, apikeys.NewModule(e.svc, authz))
	h.api.User("admin", "admin")
	h.api.User("alice", h.alice)
	h.api.User("bob", h.bob)
	h.api.Tokens["client"] = principal.Principal{Kind: principal.Client, ID: "client-1", Via: principal.ViaAccessToken}
	return h
}

func (h *httpEnv) do(t *testing.T, method, path, token, body string) (int, string, http.Header) {
	t.Helper()
	res := h.api.Do(t, method, path, token, body)
	return res.Status, res.Body, res.Header
}

// run runs the scenarios; no answer may show a secret's hash.
func (h *httpEnv) run(t *testing.T, scenarios []testutil.Scenario) {
	t.Helper()
	for i := range scenarios {
		scenarios[i].WantAbsent = append(scenarios[i].WantAbsent, "secret_hash")
	}
	h.api.Run(t, scenarios...)
}

func TestHTTPBadInputChangesNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		h := newHTTPEnv(t, db)
		keysBefore := h.count(t, "apikeys_keys", "")
		eventsBefore := h.count(t, "audit_events", "")
		big := `{"name":"` + strings.Repeat("x", 20<<10) + `"}`
		h.run(t, []testutil.Scenario{
			{Name: "no credential", Method: "POST", Path: "/api-keys", Body: `{"name":"k"}`, WantStatus: 401},
			{Name: "malformed JSON", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":`, WantStatus: 400},
			{Name: "unknown field", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","admin":true}`, WantStatus: 422, WantContains: []string{"admin"}},
			{Name: "wrong type", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":5}`, WantStatus: 422, WantContains: []string{"name"}},
			{Name: "scopes not a list", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","scopes":"users:read"}`, WantStatus: 422, WantContains: []string{"scopes"}},
			{Name: "missing name", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{}`, WantStatus: 422, WantContains: []string{"name"}},
			{Name: "blank name", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"   "}`, WantStatus: 422, WantContains: []string{"body.name"}},
			{Name: "oversized", Method: "POST", Path: "/api-keys", Token: "alice", Body: big, WantStatus: 413},
			{Name: "bad scope", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","scopes":["users:read","users:explode"]}`, WantStatus: 422, WantContains: []string{"body.scopes", "users:explode"}},
			{Name: "bad expires_in", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","expires_in":"forever"}`, WantStatus: 422, WantContains: []string{"body.expires_in"}},
			{Name: "negative expires_in", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","expires_in":"-1h"}`, WantStatus: 422, WantContains: []string{"body.expires_in"}},
			{Name: "both expiries", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","expires_in":"1h","expires_at":"2030-01-01T00:00:00Z"}`, WantStatus: 422, WantContains: []string{"body.expires_in"}},
			{Name: "expires_at not a time", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","expires_at":"tomorrow"}`, WantStatus: 422, WantContains: []string{"expires_at"}},
			{Name: "expires_at in the past", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","expires_at":"2001-01-01T00:00:00Z"}`, WantStatus: 422, WantContains: []string{"body.expires_at"}},
			{Name: "someone else's user", Method: "POST", Path: "/api-keys", Token: "alice", Body: `{"name":"k","user_id":"` + h.bob + `"}`, WantStatus: 403},
			{Name: "unknown user", Method: "POST", Path: "/api-keys", Token: "admin", Body: `{"name":"k","user_id":"00000000-0000-0000-0000-000000000000"}`, WantStatus: 422, WantContains: []string{"body.user_id"}},
			{Name: "client without user_id", Method: "POST", Path: "/api-keys", Token: "client", Body: `{"name":"k"}`, WantStatus: 422, WantContains: []string{"body.user_id"}},
			{Name: "service account by non-admin", Method: "POST", Path: "/service-accounts", Token: "alice", Body: `{"name":"bot"}`, WantStatus: 403},
			{Name: "service account bad email", Method: "POST", Path: "/service-accounts", Token: "admin", Body: `{"name":"bot","email":"not an email"}`, WantStatus: 422, WantContains: []string{"body.email"}},
			{Name: "service account unknown field", Method: "POST", Path: "/service-accounts", Token: "admin", Body: `{"name":"bot","password":"x"}`, WantStatus: 422, WantContains: []string{"password"}},
			{Name: "revoke unknown", Method: "DELETE", Path: "/api-keys/0190d1a4-0000-7000-8000-000000000000", Token: "alice", WantStatus: 404},
			{Name: "get unknown", Method: "GET", Path: "/api-keys/nope", Token: "alice", WantStatus: 404},
			{Name: "page size too big", Method: "GET", Path: "/api-keys?page_size=500", Token: "alice", WantStatus: 422, WantContains: []string{"page_size"}},
			{Name: "bad page token", Method: "GET", Path: "/api-keys?page_token=***", Token: "alice", WantStatus: 400, WantContains: []string{"query.page_token"}},
			{Name: "list another user's keys", Method: "GET", Path: "/api-keys?user_id=" + h.bob, Token: "alice", WantStatus: 403},
		})
		if n := h.count(t, "apikeys_keys", ""); n != keysBefore {
			t.Fatalf("keys %d → %d after bad input", keysBefore, n)
		}
		if n := h.count(t, "audit_events", ""); n != eventsBefore {
			t.Fatalf("audit events %d → %d after bad input", eventsBefore, n)
		}
	})
}

func TestHTTPKeyLifecycle(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		h := newHTTPEnv(t, db)

		status, body, _ := h.do(t, "POST", "/api-keys", "alice", `{"name":"laptop","scopes":["api-keys:read"],"expires_in":"720h"}`)
		if status != 201 {
			t.Fatalf("create: %d %s", status, body)
		}
		var created struct {
			apikeys.APIKeyBody
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal([]byte(body), &created); err != nil {
			t.Fatal(err)
		}
		if created.UserID != h.alice || !strings.HasPrefix(created.Secret, created.Prefix+"_") || created.ExpiresAt == nil ||
			!created.ExpiresAt.Equal(start.Add(720*60*60*1e9)) || strings.Join(created.Scopes, ",") != "api-keys:read" {
			t.Fatalf("created = %s", body)
		}
		id := created.ID

		// The key works as a bearer credential, within its scopes.
		h.run(t, []testutil.Scenario{
			{Name: "list with the key", Method: "GET", Path: "/api-keys", Token: created.Secret, WantStatus: 200, WantContains: []string{id}},
			{Name: "scope forbids create", Method: "POST", Path: "/api-keys", Token: created.Secret, Body: `{"name":"x"}`, WantStatus: 403},
		})

		status, body, _ = h.do(t, "POST", "/api-keys", "admin", `{"name":"for bob","user_id":"`+h.bob+`"}`)
		if status != 201 || !strings.Contains(body, h.bob) {
			t.Fatalf("admin create for bob: %d %s", status, body)
		}
		var bobKey apikeys.APIKeyBody
		_ = json.Unmarshal([]byte(body), &bobKey)

		h.run(t, []testutil.Scenario{
			{Name: "list own", Method: "GET", Path: "/api-keys", Token: "alice", WantStatus: 200, WantContains: []string{id, `"next_page_token":""`, `"prefix":"gh_`}},
			{Name: "admin lists bob's", Method: "GET", Path: "/api-keys?user_id=" + h.bob, Token: "admin", WantStatus: 200, WantContains: []string{bobKey.ID}},
			{Name: "get own", Method: "GET", Path: "/api-keys/" + id, Token: "alice", WantStatus: 200, WantContains: []string{`"name":"laptop"`}},
			{Name: "get someone else's", Method: "GET", Path: "/api-keys/" + id, Token: "bob", WantStatus: 403},
			{Name: "revoke someone else's", Method: "DELETE", Path: "/api-keys/" + id, Token: "bob", WantStatus: 403},
			{Name: "revoke", Method: "DELETE", Path: "/api-keys/" + id, Token: "alice", WantStatus: 204},
			{Name: "revoke again", Method: "DELETE", Path: "/api-keys/" + id, Token: "alice", WantStatus: 204},
			{Name: "revoked key is rejected", Method: "GET", Path: "/api-keys", Token: created.Secret, WantStatus: 401},
			{Name: "revoked key hidden by default", Method: "GET", Path: "/api-keys", Token: "alice", WantStatus: 200, WantContains: []string{`"items":[]`}},
			{Name: "revoked key listed on request", Method: "GET", Path: "/api-keys?include_revoked=true", Token: "alice", WantStatus: 200, WantContains: []string{id, `"revoked_at":"`}},
			{Name: "get shows revocation", Method: "GET", Path: "/api-keys/" + id, Token: "alice", WantStatus: 200, WantContains: []string{`"revoked_at":"`}},
			{Name: "service account", Method: "POST", Path: "/service-accounts", Token: "admin", Body: `{"name":"ci bot"}`, WantStatus: 201, WantContains: []string{`"machine":true`, "@service-accounts.invalid"}},
		})
		for _, path := range []string{"/api-keys", "/api-keys/" + id, "/api-keys?include_revoked=true"} {
			_, body, _ := h.do(t, "GET", path, "alice", "")
			if strings.Contains(body, created.Secret[len(created.Prefix)+1:]) || strings.Contains(body, `"secret"`) {
				t.Fatalf("%s shows the secret: %s", path, body)
			}
		}
		if n := h.count(t, "audit_events", "action = ? AND target_id = ?", "apikey.revoke", id); n != 1 {
			t.Fatalf("revoke events = %d", n)
		}
	})
}

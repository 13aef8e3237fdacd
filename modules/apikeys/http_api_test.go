package apikeys_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/apikeys"
)

// fakeAuthz: "admin" may do anything; everyone else may manage their own API
// keys only. A scoped principal also needs a matching scope.
type fakeAuthz struct{}

func (fakeAuthz) Can(_ context.Context, p principal.Principal, res principal.Resource, action string) (bool, error) {
	if p.Scopes != nil {
		ok := false
		for _, s := range p.Scopes {
			typ, act, _ := strings.Cut(s, ":")
			ok = ok || ((typ == "*" || typ == res.Type) && (act == "*" || act == action))
		}
		if !ok {
			return false, nil
		}
	}
	if p.ID == "admin" {
		return true, nil
	}
	return res.Type == "api-keys" && res.OwnerID == p.ID && p.ID != "", nil
}

type httpEnv struct {
	*env
	ts         *httptest.Server
	alice, bob string
}

func newHTTPEnv(t *testing.T, db database.DB) *httpEnv {
	t.Helper()
	e := newEnv(t, db)
	h := &httpEnv{env: e}
	h.alice = e.user(t, "alice@example.com", false).ID
	h.bob = e.user(t, "bob@example.com", false).ID
	srv := httpserver.New(httpserver.Options{
		Logger: logging.Discard(),
		Bearer: httpserver.BearerFunc(func(ctx context.Context, token string) (principal.Principal, error) {
			switch token {
			case "admin":
				return principal.Principal{Kind: principal.User, ID: "admin", Via: principal.ViaSession}, nil
			case "alice":
				return principal.Principal{Kind: principal.User, ID: h.alice, Via: principal.ViaSession}, nil
			case "bob":
				return principal.Principal{Kind: principal.User, ID: h.bob, Via: principal.ViaSession}, nil
			case "client":
				return principal.Principal{Kind: principal.Client, ID: "client-1", Via: principal.ViaAccessToken}, nil
			}
			return e.svc.AuthenticateBearer(ctx, token)
		}),
	})
	apikeys.Module(e.svc, fakeAuthz{}).Mount(srv.Routes)
	h.ts = httptest.NewServer(srv.Echo)
	t.Cleanup(h.ts.Close)
	return h
}

func (h *httpEnv) do(t *testing.T, method, path, token, body string) (int, string, http.Header) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.ts.URL+"/api/v1"+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

type httpCase struct {
	name, method, path, token, body string
	wantStatus                      int
	wantContains                    []string
}

func (h *httpEnv) run(t *testing.T, tests []httpCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, hdr := h.do(t, tt.method, tt.path, tt.token, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
			}
			if status >= 400 && !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("error with content type %q: %s", hdr.Get("Content-Type"), body)
			}
			for _, w := range tt.wantContains {
				if !strings.Contains(body, w) {
					t.Fatalf("body does not contain %q: %s", w, body)
				}
			}
			if strings.Contains(body, "secret_hash") {
				t.Fatalf("body leaks the hash: %s", body)
			}
		})
	}
}

func TestHTTPBadInputChangesNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		h := newHTTPEnv(t, db)
		keysBefore := h.count(t, "apikeys_keys", "")
		eventsBefore := h.count(t, "audit_events", "")
		big := `{"name":"` + strings.Repeat("x", 20<<10) + `"}`
		h.run(t, []httpCase{
			{name: "no credential", method: "POST", path: "/api-keys", body: `{"name":"k"}`, wantStatus: 401},
			{name: "malformed JSON", method: "POST", path: "/api-keys", token: "alice", body: `{"name":`, wantStatus: 400},
			{name: "unknown field", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","admin":true}`, wantStatus: 422, wantContains: []string{"admin"}},
			{name: "wrong type", method: "POST", path: "/api-keys", token: "alice", body: `{"name":5}`, wantStatus: 422, wantContains: []string{"name"}},
			{name: "scopes not a list", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","scopes":"users:read"}`, wantStatus: 422, wantContains: []string{"scopes"}},
			{name: "missing name", method: "POST", path: "/api-keys", token: "alice", body: `{}`, wantStatus: 422, wantContains: []string{"name"}},
			{name: "blank name", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"   "}`, wantStatus: 422, wantContains: []string{"body.name"}},
			{name: "oversized", method: "POST", path: "/api-keys", token: "alice", body: big, wantStatus: 413},
			{name: "bad scope", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","scopes":["users:read","users:explode"]}`, wantStatus: 422, wantContains: []string{"body.scopes", "users:explode"}},
			{name: "bad expires_in", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","expires_in":"forever"}`, wantStatus: 422, wantContains: []string{"body.expires_in"}},
			{name: "negative expires_in", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","expires_in":"-1h"}`, wantStatus: 422, wantContains: []string{"body.expires_in"}},
			{name: "both expiries", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","expires_in":"1h","expires_at":"2030-01-01T00:00:00Z"}`, wantStatus: 422, wantContains: []string{"body.expires_in"}},
			{name: "expires_at not a time", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","expires_at":"tomorrow"}`, wantStatus: 422, wantContains: []string{"expires_at"}},
			{name: "expires_at in the past", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","expires_at":"2001-01-01T00:00:00Z"}`, wantStatus: 422, wantContains: []string{"body.expires_at"}},
			{name: "someone else's user", method: "POST", path: "/api-keys", token: "alice", body: `{"name":"k","user_id":"` + h.bob + `"}`, wantStatus: 403},
			{name: "unknown user", method: "POST", path: "/api-keys", token: "admin", body: `{"name":"k","user_id":"00000000-0000-0000-0000-000000000000"}`, wantStatus: 422, wantContains: []string{"body.user_id"}},
			{name: "client without user_id", method: "POST", path: "/api-keys", token: "client", body: `{"name":"k"}`, wantStatus: 422, wantContains: []string{"body.user_id"}},
			{name: "service account by non-admin", method: "POST", path: "/service-accounts", token: "alice", body: `{"name":"bot"}`, wantStatus: 403},
			{name: "service account bad email", method: "POST", path: "/service-accounts", token: "admin", body: `{"name":"bot","email":"not an email"}`, wantStatus: 422, wantContains: []string{"body.email"}},
			{name: "service account unknown field", method: "POST", path: "/service-accounts", token: "admin", body: `{"name":"bot","password":"x"}`, wantStatus: 422, wantContains: []string{"password"}},
			{name: "revoke unknown", method: "DELETE", path: "/api-keys/0190d1a4-0000-7000-8000-000000000000", token: "alice", wantStatus: 404},
			{name: "get unknown", method: "GET", path: "/api-keys/nope", token: "alice", wantStatus: 404},
			{name: "page size too big", method: "GET", path: "/api-keys?page_size=500", token: "alice", wantStatus: 422, wantContains: []string{"page_size"}},
			{name: "bad page token", method: "GET", path: "/api-keys?page_token=***", token: "alice", wantStatus: 400, wantContains: []string{"query.page_token"}},
			{name: "list another user's keys", method: "GET", path: "/api-keys?user_id=" + h.bob, token: "alice", wantStatus: 403},
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
		h.run(t, []httpCase{
			{name: "list with the key", method: "GET", path: "/api-keys", token: created.Secret, wantStatus: 200, wantContains: []string{id}},
			{name: "scope forbids create", method: "POST", path: "/api-keys", token: created.Secret, body: `{"name":"x"}`, wantStatus: 403},
		})

		status, body, _ = h.do(t, "POST", "/api-keys", "admin", `{"name":"for bob","user_id":"`+h.bob+`"}`)
		if status != 201 || !strings.Contains(body, h.bob) {
			t.Fatalf("admin create for bob: %d %s", status, body)
		}
		var bobKey apikeys.APIKeyBody
		_ = json.Unmarshal([]byte(body), &bobKey)

		h.run(t, []httpCase{
			{name: "list own", method: "GET", path: "/api-keys", token: "alice", wantStatus: 200, wantContains: []string{id, `"next_page_token":""`, `"prefix":"gh_`}},
			{name: "admin lists bob's", method: "GET", path: "/api-keys?user_id=" + h.bob, token: "admin", wantStatus: 200, wantContains: []string{bobKey.ID}},
			{name: "get own", method: "GET", path: "/api-keys/" + id, token: "alice", wantStatus: 200, wantContains: []string{`"name":"laptop"`}},
			{name: "get someone else's", method: "GET", path: "/api-keys/" + id, token: "bob", wantStatus: 403},
			{name: "revoke someone else's", method: "DELETE", path: "/api-keys/" + id, token: "bob", wantStatus: 403},
			{name: "revoke", method: "DELETE", path: "/api-keys/" + id, token: "alice", wantStatus: 204},
			{name: "revoke again", method: "DELETE", path: "/api-keys/" + id, token: "alice", wantStatus: 204},
			{name: "revoked key is rejected", method: "GET", path: "/api-keys", token: created.Secret, wantStatus: 401},
			{name: "revoked key hidden by default", method: "GET", path: "/api-keys", token: "alice", wantStatus: 200, wantContains: []string{`"items":[]`}},
			{name: "revoked key listed on request", method: "GET", path: "/api-keys?include_revoked=true", token: "alice", wantStatus: 200, wantContains: []string{id, `"revoked_at":"`}},
			{name: "get shows revocation", method: "GET", path: "/api-keys/" + id, token: "alice", wantStatus: 200, wantContains: []string{`"revoked_at":"`}},
			{name: "service account", method: "POST", path: "/service-accounts", token: "admin", body: `{"name":"ci bot"}`, wantStatus: 201, wantContains: []string{`"machine":true`, "@service-accounts.invalid"}},
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

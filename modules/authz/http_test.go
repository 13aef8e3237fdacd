package authz

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/logging"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// testTokens maps bearer tokens to principals.
var testTokens = map[string]principal.Principal{
	"admin":  {Kind: principal.User, ID: "u-admin", Via: principal.ViaAPIKey},
	"viewer": {Kind: principal.User, ID: "u-view", Via: principal.ViaAPIKey},
	"ua":     {Kind: principal.User, ID: "u-ua", Via: principal.ViaAPIKey},
	"ops":    {Kind: principal.User, ID: "u-ops", Via: principal.ViaAPIKey}, // role ops where a test grants it
	"pep":    {Kind: principal.Client, ID: "pep", Via: principal.ViaAccessToken, Scopes: []string{"authzen:evaluate"}},
	"ro":     {Kind: principal.User, ID: "u-admin", Via: principal.ViaAPIKey, Scopes: []string{"policies:read"}},
}

func newHTTP(t testing.TB, db database.DB) (http.Handler, *Service) {
	t.Helper()
	svc := newTestService(t, db, newFakeRoles(), Options{})
	bearer := httpserver.BearerFunc(func(_ context.Context, token string) (principal.Principal, error) {
		if p, ok := testTokens[token]; ok {
			return p, nil
		}
		return principal.Principal{}, httpserver.ErrUnauthenticated
	})
	srv := httpserver.New(httpserver.Options{Logger: logging.Discard(), Bearer: bearer})
	NewModule(svc, "http://gh.test/").Mount(srv.Routes)
	return srv.Echo, svc
}

type step struct {
	name         string
	method, path string
	token        string
	contentType  string
	body         string
	header       map[string]string
	wantStatus   int
	wantContains []string
	wantHeader   map[string]string
}

func run(t *testing.T, h http.Handler, steps []step) {
	t.Helper()
	for _, st := range steps {
		req := httptest.NewRequest(st.method, st.path, strings.NewReader(st.body))
		if st.body != "" {
			ct := st.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
		}
		if st.token != "" {
			req.Header.Set("Authorization", "Bearer "+st.token)
		}
		for k, v := range st.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != st.wantStatus {
			t.Fatalf("%s: %s %s = %d, want %d: %s", st.name, st.method, st.path, rec.Code, st.wantStatus, rec.Body.String())
		}
		for _, w := range st.wantContains {
			if !strings.Contains(rec.Body.String(), w) {
				t.Fatalf("%s: body lacks %q: %s", st.name, w, rec.Body.String())
			}
		}
		for k, v := range st.wantHeader {
			if got := rec.Header().Get(k); !strings.Contains(got, v) {
				t.Fatalf("%s: header %s = %q, want %q", st.name, k, got, v)
			}
		}
	}
}

func TestPolicyAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		h, svc := newHTTP(t, db)
		run(t, h, []step{
			{name: "no credential", method: "GET", path: "/api/v1/policies", wantStatus: 401},
			{name: "no permission", method: "GET", path: "/api/v1/policies", token: "viewer", wantStatus: 403},
			{name: "user-admin cannot read policies", method: "GET", path: "/api/v1/policies", token: "ua", wantStatus: 403},
			{name: "list", method: "GET", path: "/api/v1/policies?page_size=2", token: "admin", wantStatus: 200,
				wantContains: []string{`"subject":"role:admin"`, `"built_in":true`, `"next_page_token":"`}},
			{name: "filter", method: "GET", path: "/api/v1/policies?subject=role:auditor", token: "admin", wantStatus: 200,
				wantContains: []string{`"resource":"*:*","action":"read"`, `"next_page_token":""`}},
			{name: "bad page token", method: "GET", path: "/api/v1/policies?page_token=%21", token: "admin", wantStatus: 400},
			{name: "create", method: "POST", path: "/api/v1/policies", token: "admin", wantStatus: 201,
				body:         `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow"}`,
				wantContains: []string{`"id":"`, `"effect":"allow"`}},
			{name: "duplicate", method: "POST", path: "/api/v1/policies", token: "admin", wantStatus: 409,
				body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow"}`},
			{name: "scoped key may only read", method: "POST", path: "/api/v1/policies", token: "ro", wantStatus: 403,
				body: `{"subject":"role:viewer","resource":"docs:*","action":"update","effect":"allow"}`},
			{name: "bad effect names the field", method: "POST", path: "/api/v1/policies", token: "admin", wantStatus: 422,
				body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"maybe"}`, wantContains: []string{"effect"}},
			{name: "unknown role", method: "POST", path: "/api/v1/policies", token: "admin", wantStatus: 422,
				body: `{"subject":"role:ghost","resource":"docs:*","action":"read","effect":"allow"}`, wantContains: []string{"subject", "ghost"}},
			{name: "condition that does not parse", method: "POST", path: "/api/v1/policies", token: "admin", wantStatus: 400,
				body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow","condition":"r.sub.a =="}`, wantContains: []string{"condition"}},
			{name: "unknown field", method: "POST", path: "/api/v1/policies", token: "admin", wantStatus: 422,
				body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow","priority":1}`},
			{name: "malformed JSON", method: "POST", path: "/api/v1/policies", token: "admin", wantStatus: 400, body: `{"subject":`},
			{name: "validate ok", method: "POST", path: "/api/v1/policies/validate", token: "admin", wantStatus: 200,
				body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"DENY","condition":"r.ctx.hour < 6"}`, wantContains: []string{`"valid":true`, `"effect":"deny"`}},
			{name: "validate bad", method: "POST", path: "/api/v1/policies/validate", token: "admin", wantStatus: 422,
				body: `{"subject":"role:viewer","resource":"docs","action":"read","effect":"allow"}`, wantContains: []string{"resource"}},
			{name: "delete built-in", method: "DELETE", path: "/api/v1/policies/00000000-0000-7000-8000-000000000001", token: "admin", wantStatus: 409},
			{name: "delete unknown", method: "DELETE", path: "/api/v1/policies/nope", token: "admin", wantStatus: 404},
			{name: "get built-in", method: "GET", path: "/api/v1/policies/00000000-0000-7000-8000-000000000005", token: "admin", wantStatus: 200, wantContains: []string{"role:auditor"}},
			{name: "replace", method: "PUT", path: "/api/v1/policies", token: "admin", wantStatus: 200,
				body: `{"policies":[{"subject":"role:editor","resource":"wiki:*","action":"*","effect":"allow"}]}`, wantContains: []string{`"resource":"wiki:*"`}},
			{name: "replace invalid names the index", method: "PUT", path: "/api/v1/policies", token: "admin", wantStatus: 422,
				body: `{"policies":[{"subject":"role:editor","resource":"wiki:*","action":"*","effect":"allow"},{"subject":"role:editor","resource":"wiki:*","action":"","effect":"allow"}]}`, wantContains: []string{"policies[1].action"}},
			{name: "inherit", method: "PUT", path: "/api/v1/roles/chief/parents/editor", token: "admin", wantStatus: 204},
			{name: "inherit cycle", method: "PUT", path: "/api/v1/roles/editor/parents/chief", token: "admin", wantStatus: 409},
			{name: "inherit unknown", method: "PUT", path: "/api/v1/roles/chief/parents/ghost", token: "admin", wantStatus: 422},
			{name: "parents", method: "GET", path: "/api/v1/roles/chief/parents", token: "admin", wantStatus: 200, wantContains: []string{`"parent":"editor"`}},
			{name: "export", method: "GET", path: "/api/v1/policies/export", token: "admin", wantStatus: 200,
				wantContains: []string{"p,role:editor,wiki:*,*,allow,\n", "g,role:chief,role:editor\n"}, wantHeader: map[string]string{"Content-Type": "text/csv"}},
			{name: "import bad line", method: "POST", path: "/api/v1/policies/import", token: "admin", contentType: "text/csv", wantStatus: 400,
				body: "p, role:viewer, docs:*, read, allow\nq, x\n", wantContains: []string{"line 2"}},
			{name: "import", method: "POST", path: "/api/v1/policies/import", token: "admin", contentType: "text/csv", wantStatus: 200,
				body: "p, role:viewer, docs:*, read, allow\np, role:viewer, docs:secret, read, deny, \"r.ctx.hour >= 0\"\ng, role:chief, role:viewer\n", wantContains: []string{`"policies":2`, `"role_parents":1`}},
			{name: "uninherit", method: "DELETE", path: "/api/v1/roles/chief/parents/viewer", token: "admin", wantStatus: 204},
			{name: "uninherit again", method: "DELETE", path: "/api/v1/roles/chief/parents/viewer", token: "admin", wantStatus: 404},
		})
		ok, err := svc.Can(context.Background(), testTokens["viewer"], principal.Resource{Type: "docs", ID: "1"}, "read")
		if err != nil || !ok {
			t.Fatalf("imported rule not applied: %v %v", ok, err)
		}
		for _, a := range []string{"policy.create", "policy.replace", "policy.import", "role_parent.create", "role_parent.delete"} {
			if auditCount(t, db, a) != 1 {
				t.Errorf("audit %s missing", a)
			}
		}
	})
}

func TestAuthZEN(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		h, svc := newHTTP(t, db)
		ctx := principal.With(context.Background(), testTokens["admin"])
		rule, err := svc.CreatePolicy(ctx, Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreatePolicy(ctx, Rule{Subject: "role:staff", Resource: "files:*", Action: "read", Effect: "allow", Condition: "r.sub.department == r.obj.department"}); err != nil {
			t.Fatal(err)
		}
		eval := `{"subject":{"type":"user","id":"u-view"},"action":{"name":"read"},"resource":{"type":"docs","id":"1"},"context":{}}`
		run(t, h, []step{
			{name: "metadata", method: "GET", path: "/.well-known/authzen-configuration", wantStatus: 200,
				wantContains: []string{`"policy_decision_point":"http://gh.test"`, `"access_evaluation_endpoint":"http://gh.test/access/v1/evaluation"`, `"access_evaluations_endpoint":"http://gh.test/access/v1/evaluations"`, `"search_action_endpoint":"http://gh.test/access/v1/search/action"`}},
			{name: "no credential", method: "POST", path: "/access/v1/evaluation", body: eval, wantStatus: 401,
				wantHeader: map[string]string{"WWW-Authenticate": "Bearer", "Content-Type": "json"}},
			{name: "bad credential", method: "POST", path: "/access/v1/evaluation", token: "nope", body: eval, wantStatus: 401},
			{name: "not allowed to ask", method: "POST", path: "/access/v1/evaluation", token: "viewer", body: eval, wantStatus: 403},
			{name: "permit", method: "POST", path: "/access/v1/evaluation", token: "admin", body: eval, wantStatus: 200,
				header:       map[string]string{"X-Request-ID": "req-123"},
				wantContains: []string{`"decision":true`, `"rule_id":"` + rule.ID + `"`},
				wantHeader:   map[string]string{"X-Request-ID": "req-123", "Content-Type": "application/json"}},
			{name: "client with scope", method: "POST", path: "/access/v1/evaluation", token: "pep", body: eval, wantStatus: 200, wantContains: []string{`"decision":true`}},
			{name: "deny", method: "POST", path: "/access/v1/evaluation", token: "admin", wantStatus: 200, wantContains: []string{`"decision":false`},
				body: `{"subject":{"type":"user","id":"u-view"},"action":{"name":"update"},"resource":{"type":"docs","id":"1"}}`},
			{name: "role subject with properties", method: "POST", path: "/access/v1/evaluation", token: "admin", wantStatus: 200, wantContains: []string{`"decision":true`},
				body: `{"subject":{"type":"role","id":"staff","properties":{"department":"eng"}},"action":{"name":"read"},"resource":{"type":"files","id":"1","properties":{"department":"eng"}}}`},
			{name: "condition error is 400", method: "POST", path: "/access/v1/evaluation", token: "admin", wantStatus: 400,
				body: `{"subject":{"type":"role","id":"staff"},"action":{"name":"read"},"resource":{"type":"files","id":"1"}}`},
			{name: "missing action", method: "POST", path: "/access/v1/evaluation", token: "admin", wantStatus: 400, wantContains: []string{"action"},
				body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"}}`},
			{name: "wrong type", method: "POST", path: "/access/v1/evaluation", token: "admin", wantStatus: 400,
				body: `{"subject":{"type":"user","id":7},"action":{"name":"read"},"resource":{"type":"docs","id":"1"}}`},
			{name: "not JSON", method: "POST", path: "/access/v1/evaluation", token: "admin", wantStatus: 400, body: `nope`},
			// AuthZEN certification 2.4.3: a JSON body sent as text/plain is
			// refused, not evaluated.
			{name: "text/plain is refused", method: "POST", path: "/access/v1/evaluation", token: "admin", contentType: "text/plain", body: eval,
				wantStatus: 400, wantContains: []string{"application/json"}, wantHeader: map[string]string{"Content-Type": "application/problem+json"}},
			{name: "form is refused (batch)", method: "POST", path: "/access/v1/evaluations", token: "admin", contentType: "application/x-www-form-urlencoded", body: eval, wantStatus: 400},
			{name: "text/plain is refused (search)", method: "POST", path: "/access/v1/search/action", token: "admin", contentType: "text/plain",
				body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"}}`, wantStatus: 400},
			{name: "json with charset", method: "POST", path: "/access/v1/evaluation", token: "admin", contentType: "application/json; charset=utf-8", body: eval,
				wantStatus: 200, wantContains: []string{`"decision":true`}},
			{name: "batch with defaults", method: "POST", path: "/access/v1/evaluations", token: "admin", wantStatus: 200,
				body:         `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"},"evaluations":[{"action":{"name":"read"}},{"action":{"name":"update"}},{"resource":{"type":"docs","id":"2"},"action":{"name":"read"}},{}]}`,
				wantContains: []string{`{"evaluations":[{"decision":true`, `{"decision":false,"context":{"reason_admin"`, `{"decision":false,"context":{"error":{"message":"evaluations[3].action is required","status":400}}}]}`}},
			{name: "deny_on_first_deny", method: "POST", path: "/access/v1/evaluations", token: "admin", wantStatus: 200,
				body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"},"options":{"evaluations_semantic":"deny_on_first_deny"},"evaluations":[{"action":{"name":"read"}},{"action":{"name":"update"}},{"action":{"name":"read"}}]}`},
			{name: "bad semantic", method: "POST", path: "/access/v1/evaluations", token: "admin", wantStatus: 400,
				body: `{"options":{"evaluations_semantic":"sometimes"},"evaluations":[{}]}`},
			{name: "no evaluations is a single evaluation", method: "POST", path: "/access/v1/evaluations", token: "admin", wantStatus: 200,
				body: eval, wantContains: []string{`{"decision":true`}},
			{name: "action search", method: "POST", path: "/access/v1/search/action", token: "admin", wantStatus: 200,
				body:         `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"}}`,
				wantContains: []string{`{"page":{"next_token":""},"results":[{"name":"read"}]}`}},
			{name: "action search: user-admin may not assign the admin role", method: "POST", path: "/access/v1/search/action", token: "pep", wantStatus: 200,
				body:         `{"subject":{"type":"user","id":"u-ua"},"resource":{"type":"roles","id":"admin"}}`,
				wantContains: []string{`"results":[{"name":"create"},{"name":"delete"},{"name":"evaluate"},{"name":"read"},{"name":"rotate"},{"name":"update"}]`}},
			{name: "action search with action", method: "POST", path: "/access/v1/search/action", token: "admin", wantStatus: 400,
				body: `{"subject":{"type":"user","id":"u-view"},"action":{"name":"read"},"resource":{"type":"docs","id":"1"}}`},
			{name: "action search needs permission", method: "POST", path: "/access/v1/search/action", token: "viewer", wantStatus: 403,
				body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"}}`},
			{name: "too many", method: "POST", path: "/access/v1/evaluations", token: "admin", wantStatus: 413,
				body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"},"action":{"name":"read"},"evaluations":[` + strings.Repeat(`{},`, MaxEvaluations) + `{}]}`},
		})

		// semantics: count the answers
		for _, tc := range []struct {
			semantic string
			want     []bool
		}{
			{"execute_all", []bool{true, false, true}},
			{"deny_on_first_deny", []bool{true, false}},
			{"permit_on_first_permit", []bool{true}},
		} {
			body := `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"},"options":{"evaluations_semantic":"` + tc.semantic + `"},"evaluations":[{"action":{"name":"read"}},{"action":{"name":"update"}},{"action":{"name":"read"}}]}`
			req := httptest.NewRequest("POST", "/access/v1/evaluations", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer admin")
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var res struct {
				Evaluations []struct{ Decision bool } `json:"evaluations"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			var got []bool
			for _, e := range res.Evaluations {
				got = append(got, e.Decision)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%s: decisions %v, want %v", tc.semantic, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("%s: decisions %v, want %v", tc.semantic, got, tc.want)
				}
			}
		}
	})
}

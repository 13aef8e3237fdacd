package authz

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
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

// newAPI mounts the module on a real server; the bearer tokens are
// testTokens.
func newAPI(t testing.TB, db database.DB) (*testutil.API, *Service) {
	t.Helper()
	svc := newTestService(t, db, newFakeRoles(), Options{})
	api := testutil.NewAPI(t, httpserver.Options{}, NewModule(svc, "http://gh.test/"))
	for token, p := range testTokens {
		api.Tokens[token] = p
	}
	return api, svc
}

func TestPolicyAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		api, svc := newAPI(t, db)
		api.Run(t, []testutil.Scenario{
			{Name: "no credential", Method: "GET", Path: "/policies", WantStatus: 401},
			{Name: "no permission", Method: "GET", Path: "/policies", Token: "viewer", WantStatus: 403},
			{Name: "user-admin cannot read policies", Method: "GET", Path: "/policies", Token: "ua", WantStatus: 403},
			{Name: "list", Method: "GET", Path: "/policies?page_size=2", Token: "admin", WantStatus: 200,
				WantContains: []string{`"subject":"role:admin"`, `"built_in":true`, `"next_page_token":"`}},
			{Name: "filter", Method: "GET", Path: "/policies?subject=role:auditor", Token: "admin", WantStatus: 200,
				WantContains: []string{`"resource":"*:*","action":"read"`, `"next_page_token":""`}},
			{Name: "bad page token", Method: "GET", Path: "/policies?page_token=%21", Token: "admin", WantStatus: 400},
			{Name: "create", Method: "POST", Path: "/policies", Token: "admin", WantStatus: 201,
				Body:         `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow"}`,
				WantContains: []string{`"id":"`, `"effect":"allow"`}},
			{Name: "duplicate", Method: "POST", Path: "/policies", Token: "admin", WantStatus: 409,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow"}`},
			{Name: "scoped key may only read", Method: "POST", Path: "/policies", Token: "ro", WantStatus: 403,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"update","effect":"allow"}`},
			{Name: "bad effect names the field", Method: "POST", Path: "/policies", Token: "admin", WantStatus: 422,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"maybe"}`, WantContains: []string{"effect"}},
			{Name: "unknown role", Method: "POST", Path: "/policies", Token: "admin", WantStatus: 422,
				Body: `{"subject":"role:ghost","resource":"docs:*","action":"read","effect":"allow"}`, WantContains: []string{"subject", "ghost"}},
			{Name: "condition that does not parse", Method: "POST", Path: "/policies", Token: "admin", WantStatus: 400,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow","condition":"r.sub.a =="}`, WantContains: []string{"condition"}},
			{Name: "unknown field", Method: "POST", Path: "/policies", Token: "admin", WantStatus: 422,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow","priority":1}`},
			{Name: "malformed JSON", Method: "POST", Path: "/policies", Token: "admin", WantStatus: 400, Body: `{"subject":`},
			{Name: "validate ok", Method: "POST", Path: "/policies/validate", Token: "admin", WantStatus: 200,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"DENY","condition":"r.ctx.hour < 6"}`, WantContains: []string{`"valid":true`, `"effect":"deny"`}},
			{Name: "validate bad", Method: "POST", Path: "/policies/validate", Token: "admin", WantStatus: 422,
				Body: `{"subject":"role:viewer","resource":"docs","action":"read","effect":"allow"}`, WantContains: []string{"resource"}},
			{Name: "delete built-in", Method: "DELETE", Path: "/policies/00000000-0000-7000-8000-000000000001", Token: "admin", WantStatus: 409},
			{Name: "delete unknown", Method: "DELETE", Path: "/policies/nope", Token: "admin", WantStatus: 404},
			{Name: "get built-in", Method: "GET", Path: "/policies/00000000-0000-7000-8000-000000000005", Token: "admin", WantStatus: 200, WantContains: []string{"role:auditor"}},
			{Name: "replace", Method: "PUT", Path: "/policies", Token: "admin", WantStatus: 200,
				Body: `{"policies":[{"subject":"role:editor","resource":"wiki:*","action":"*","effect":"allow"}]}`, WantContains: []string{`"resource":"wiki:*"`}},
			{Name: "replace invalid names the index", Method: "PUT", Path: "/policies", Token: "admin", WantStatus: 422,
				Body: `{"policies":[{"subject":"role:editor","resource":"wiki:*","action":"*","effect":"allow"},{"subject":"role:editor","resource":"wiki:*","action":"","effect":"allow"}]}`, WantContains: []string{"policies[1].action"}},
			{Name: "inherit", Method: "PUT", Path: "/roles/chief/parents/editor", Token: "admin", WantStatus: 204},
			{Name: "inherit cycle", Method: "PUT", Path: "/roles/editor/parents/chief", Token: "admin", WantStatus: 409},
			{Name: "inherit unknown", Method: "PUT", Path: "/roles/chief/parents/ghost", Token: "admin", WantStatus: 422},
			{Name: "parents", Method: "GET", Path: "/roles/chief/parents", Token: "admin", WantStatus: 200, WantContains: []string{`"parent":"editor"`}},
			{Name: "export", Method: "GET", Path: "/policies/export", Token: "admin", WantStatus: 200,
				WantContains: []string{"p,role:editor,wiki:*,*,allow,\n", "g,role:chief,role:editor\n"}, WantHeader: map[string]string{"Content-Type": "text/csv"}},
			{Name: "import bad line", Method: "POST", Path: "/policies/import", Token: "admin", Header: []string{"Content-Type", "text/csv"}, WantStatus: 400,
				Body: "p, role:viewer, docs:*, read, allow\nq, x\n", WantContains: []string{"line 2"}},
			{Name: "import", Method: "POST", Path: "/policies/import", Token: "admin", Header: []string{"Content-Type", "text/csv"}, WantStatus: 200,
				Body: "p, role:viewer, docs:*, read, allow\np, role:viewer, docs:secret, read, deny, \"r.ctx.hour >= 0\"\ng, role:chief, role:viewer\n", WantContains: []string{`"policies":2`, `"role_parents":1`}},
			{Name: "uninherit", Method: "DELETE", Path: "/roles/chief/parents/viewer", Token: "admin", WantStatus: 204},
			{Name: "uninherit again", Method: "DELETE", Path: "/roles/chief/parents/viewer", Token: "admin", WantStatus: 404},
		}...)
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
		api, svc := newAPI(t, db)
		ctx := principal.With(context.Background(), testTokens["admin"])
		rule, err := svc.CreatePolicy(ctx, Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreatePolicy(ctx, Rule{Subject: "role:staff", Resource: "files:*", Action: "read", Effect: "allow", Condition: "r.sub.department == r.obj.department"}); err != nil {
			t.Fatal(err)
		}
		eval := `{"subject":{"type":"user","id":"u-view"},"action":{"name":"read"},"resource":{"type":"docs","id":"1"},"context":{}}`
		api.Run(t, []testutil.Scenario{
			{Name: "metadata", Method: "GET", Path: "//.well-known/authzen-configuration", WantStatus: 200,
				WantContains: []string{`"policy_decision_point":"http://gh.test"`, `"access_evaluation_endpoint":"http://gh.test/access/v1/evaluation"`, `"access_evaluations_endpoint":"http://gh.test/access/v1/evaluations"`, `"search_action_endpoint":"http://gh.test/access/v1/search/action"`}},
			{Name: "no credential", Method: "POST", Path: "//access/v1/evaluation", Body: eval, WantStatus: 401,
				WantHeader: map[string]string{"WWW-Authenticate": "Bearer", "Content-Type": "json"}},
			{Name: "bad credential", Method: "POST", Path: "//access/v1/evaluation", Token: "nope", Body: eval, WantStatus: 401},
			{Name: "not allowed to ask", Method: "POST", Path: "//access/v1/evaluation", Token: "viewer", Body: eval, WantStatus: 403},
			{Name: "permit", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", Body: eval, WantStatus: 200,
				Header:       []string{"X-Request-ID", "req-123"},
				WantContains: []string{`"decision":true`, `"rule_id":"` + rule.ID + `"`},
				WantHeader:   map[string]string{"X-Request-ID": "req-123", "Content-Type": "application/json"}},
			{Name: "client with scope", Method: "POST", Path: "//access/v1/evaluation", Token: "pep", Body: eval, WantStatus: 200, WantContains: []string{`"decision":true`}},
			{Name: "deny", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", WantStatus: 200, WantContains: []string{`"decision":false`},
				Body: `{"subject":{"type":"user","id":"u-view"},"action":{"name":"update"},"resource":{"type":"docs","id":"1"}}`},
			{Name: "role subject with properties", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", WantStatus: 200, WantContains: []string{`"decision":true`},
				Body: `{"subject":{"type":"role","id":"staff","properties":{"department":"eng"}},"action":{"name":"read"},"resource":{"type":"files","id":"1","properties":{"department":"eng"}}}`},
			{Name: "condition error is 400", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", WantStatus: 400,
				Body: `{"subject":{"type":"role","id":"staff"},"action":{"name":"read"},"resource":{"type":"files","id":"1"}}`},
			{Name: "missing action", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", WantStatus: 400, WantContains: []string{"action"},
				Body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"}}`},
			{Name: "wrong type", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", WantStatus: 400,
				Body: `{"subject":{"type":"user","id":7},"action":{"name":"read"},"resource":{"type":"docs","id":"1"}}`},
			{Name: "not JSON", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", WantStatus: 400, Body: `nope`},
			// AuthZEN certification 2.4.3: a JSON body sent as text/plain is
			// refused, not evaluated.
			{Name: "text/plain is refused", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", Header: []string{"Content-Type", "text/plain"}, Body: eval,
				WantStatus: 400, WantContains: []string{"application/json"}, WantHeader: map[string]string{"Content-Type": "application/problem+json"}},
			{Name: "form is refused (batch)", Method: "POST", Path: "//access/v1/evaluations", Token: "admin", Header: []string{"Content-Type", "application/x-www-form-urlencoded"}, Body: eval, WantStatus: 400},
			{Name: "text/plain is refused (search)", Method: "POST", Path: "//access/v1/search/action", Token: "admin", Header: []string{"Content-Type", "text/plain"},
				Body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"}}`, WantStatus: 400},
			{Name: "json with charset", Method: "POST", Path: "//access/v1/evaluation", Token: "admin", Header: []string{"Content-Type", "application/json; charset=utf-8"}, Body: eval,
				WantStatus: 200, WantContains: []string{`"decision":true`}},
			{Name: "batch with defaults", Method: "POST", Path: "//access/v1/evaluations", Token: "admin", WantStatus: 200,
				Body:         `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"},"evaluations":[{"action":{"name":"read"}},{"action":{"name":"update"}},{"resource":{"type":"docs","id":"2"},"action":{"name":"read"}},{}]}`,
				WantContains: []string{`{"evaluations":[{"decision":true`, `{"decision":false,"context":{"reason_admin"`, `{"decision":false,"context":{"error":{"message":"evaluations[3].action is required","status":400}}}]}`}},
			{Name: "deny_on_first_deny", Method: "POST", Path: "//access/v1/evaluations", Token: "admin", WantStatus: 200,
				Body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"},"options":{"evaluations_semantic":"deny_on_first_deny"},"evaluations":[{"action":{"name":"read"}},{"action":{"name":"update"}},{"action":{"name":"read"}}]}`},
			{Name: "bad semantic", Method: "POST", Path: "//access/v1/evaluations", Token: "admin", WantStatus: 400,
				Body: `{"options":{"evaluations_semantic":"sometimes"},"evaluations":[{}]}`},
			{Name: "no evaluations is a single evaluation", Method: "POST", Path: "//access/v1/evaluations", Token: "admin", WantStatus: 200,
				Body: eval, WantContains: []string{`{"decision":true`}},
			{Name: "action search", Method: "POST", Path: "//access/v1/search/action", Token: "admin", WantStatus: 200,
				Body:         `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"}}`,
				WantContains: []string{`{"page":{"next_token":""},"results":[{"name":"read"}]}`}},
			{Name: "action search: user-admin may not assign the admin role", Method: "POST", Path: "//access/v1/search/action", Token: "pep", WantStatus: 200,
				Body:         `{"subject":{"type":"user","id":"u-ua"},"resource":{"type":"roles","id":"admin"}}`,
				WantContains: []string{`"results":[{"name":"create"},{"name":"delete"},{"name":"evaluate"},{"name":"read"},{"name":"rotate"},{"name":"update"}]`}},
			{Name: "action search with action", Method: "POST", Path: "//access/v1/search/action", Token: "admin", WantStatus: 400,
				Body: `{"subject":{"type":"user","id":"u-view"},"action":{"name":"read"},"resource":{"type":"docs","id":"1"}}`},
			{Name: "action search needs permission", Method: "POST", Path: "//access/v1/search/action", Token: "viewer", WantStatus: 403,
				Body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"}}`},
			{Name: "too many", Method: "POST", Path: "//access/v1/evaluations", Token: "admin", WantStatus: 413,
				Body: `{"subject":{"type":"user","id":"u-view"},"resource":{"type":"docs","id":"1"},"action":{"name":"read"},"evaluations":[` + strings.Repeat(`{},`, MaxEvaluations) + `{}]}`},
		}...)

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
			res := api.Do(t, "POST", "//access/v1/evaluations", "admin", body)
			var out struct {
				Evaluations []struct{ Decision bool } `json:"evaluations"`
			}
			if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
				t.Fatal(res.Status, err)
			}
			var got []bool
			for _, e := range out.Evaluations {
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

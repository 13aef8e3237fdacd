package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestAuthzAuthZENMetadata: GET /.well-known/authzen-configuration answers
// the PDP metadata of AuthZEN Authorization API 1.0 §9 without credentials,
// and the endpoints it advertises work.
func TestAuthzAuthZENMetadata(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	r := get(t, srv.URL+"/.well-known/authzen-configuration").expect(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var md map[string]any
	r.decode(t, &md)
	// policy_decision_point MUST equal the URL the well-known path was
	// inserted into; access_evaluation_endpoint is REQUIRED.
	want := map[string]string{
		"policy_decision_point":       srv.URL,
		"access_evaluation_endpoint":  srv.URL + "/access/v1/evaluation",
		"access_evaluations_endpoint": srv.URL + "/access/v1/evaluations",
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("metadata %s = %v, want %q (whole document: %s)", k, md[k], v, r.Body)
		}
	}
	// Parameters with zero values MUST be omitted.
	for k, v := range md {
		if v == nil || v == "" {
			t.Errorf("metadata %s is present with an empty value", k)
		}
	}

	// The advertised endpoints answer.
	admin := srv.AdminKey(t)
	adminID := azUserID(t, api(srv, admin), srv.AdminEmail)
	ep, _ := md["access_evaluation_endpoint"].(string)
	if ep == "" {
		t.Fatal("no access_evaluation_endpoint")
	}
	c := &apiClient{base: ep, token: admin}
	var d azDecisionDTO
	c.do(t, "POST", "", azEvalReq(adminID, "read", "users", adminID)).expect(t, http.StatusOK).decode(t, &d)
	if d.Decision == nil {
		t.Errorf("advertised evaluation endpoint answered no decision")
	}
}

// TestAuthzEvaluation: decisions for a user through the roles they hold,
// attribute conditions, immediate effect of role and policy changes, and
// the spec's error responses.
func TestAuthzEvaluation(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := srv.AdminKey(t)
	c := api(srv, admin)
	azCreateRole(t, c, "viewer")
	azCreateRole(t, c, "approver")
	vic := createUser(t, srv, "vic@example.com", "viewer-password-1", "viewer")
	nobody := createUser(t, srv, "nobody@example.com", "nobody-password-1")

	azAllow(t, c, "role:viewer", "report:*", "read")

	t.Run("through a role", func(t *testing.T) {
		azExpect(t, srv, admin, vic, "read", "report", "q3", true)
		azExpect(t, srv, admin, vic, "delete", "report", "q3", false)
		azExpect(t, srv, admin, vic, "read", "ledger", "q3", false)
		azExpect(t, srv, admin, nobody, "read", "report", "q3", false)
		// An unknown subject is denied, not an error (a decision is
		// always 200).
		azExpect(t, srv, admin, "0192f0c1-7d0a-7000-8000-00000000beef", "read", "report", "q3", false)
	})

	// AuthZEN certification case 2.4.3: a body that is not declared
	// application/json is refused with 400 and evaluated by no endpoint.
	t.Run("non-JSON content type is refused", func(t *testing.T) {
		body := string(azJSON(t, azEvalReq(vic, "read", "report", "1")))
		for _, tc := range []struct{ path, ct string }{
			{"/access/v1/evaluation", "text/plain"},
			{"/access/v1/evaluation", ""},
			{"/access/v1/evaluations", "text/plain;charset=utf-8"},
			{"/access/v1/search/action", "application/x-www-form-urlencoded"},
		} {
			req, _ := http.NewRequest("POST", srv.URL+tc.path, strings.NewReader(body))
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			req.Header.Set("Authorization", "Bearer "+admin)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r := readResponse(t, "POST", req.URL.String(), resp).expect(t, http.StatusBadRequest)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("%s as %q: Content-Type %q, want application/problem+json", tc.path, tc.ct, ct)
			}
			if strings.Contains(string(r.Body), "decision") {
				t.Errorf("%s as %q: evaluated anyway: %s", tc.path, tc.ct, r.Body)
			}
		}
		req, _ := http.NewRequest("POST", srv.URL+"/access/v1/evaluation", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readResponse(t, "POST", req.URL.String(), resp).expect(t, http.StatusOK)
	})

	t.Run("response shape and request id", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL+"/access/v1/evaluation", strings.NewReader(string(azJSON(t, azEvalReq(vic, "read", "report", "1")))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("X-Request-ID", "bfe9eb29-ab87-4ca3-be83-a1d5d8305716")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r := readResponse(t, "POST", req.URL.String(), resp).expect(t, http.StatusOK)
		var raw map[string]json.RawMessage
		r.decode(t, &raw)
		if string(raw["decision"]) != "true" {
			t.Errorf("decision = %s, want the JSON boolean true: %s", raw["decision"], r.Body)
		}
		if got := r.Header.Get("X-Request-ID"); got != "bfe9eb29-ab87-4ca3-be83-a1d5d8305716" {
			t.Errorf("X-Request-ID = %q, want the request's id echoed", got)
		}
		// The PDP MUST echo X-Request-ID on every answer, batch and errors
		// included.
		for _, tc := range []struct {
			path, token string
			body        any
			status      int
		}{
			{"/access/v1/evaluations", admin, map[string]any{"evaluations": []any{azEvalReq(vic, "read", "report", "1")}}, http.StatusOK},
			{"/access/v1/evaluation", "", azEvalReq(vic, "read", "report", "1"), http.StatusUnauthorized},
			{"/access/v1/evaluation", admin, `{"subject": `, http.StatusBadRequest},
		} {
			id := "req-" + randomHex(8)
			req, _ := http.NewRequest("POST", srv.URL+tc.path, strings.NewReader(string(azBody(t, tc.body))))
			req.Header.Set("Content-Type", "application/json")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			req.Header.Set("X-Request-ID", id)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r := readResponse(t, "POST", req.URL.String(), resp).expect(t, tc.status)
			if got := r.Header.Get("X-Request-ID"); got != id {
				t.Errorf("POST %s (status %d): X-Request-ID = %q, want %q", tc.path, r.Status, got, id)
			}
		}
	})

	t.Run("role change visible at once", func(t *testing.T) {
		azExpect(t, srv, admin, nobody, "read", "report", "1", false)
		c.do(t, "PUT", "/users/"+nobody+"/roles/viewer", nil).expect(t, http.StatusOK, http.StatusNoContent, http.StatusCreated)
		azExpect(t, srv, admin, nobody, "read", "report", "1", true)
		c.do(t, "DELETE", "/users/"+nobody+"/roles/viewer", nil).expect(t, http.StatusOK, http.StatusNoContent)
		azExpect(t, srv, admin, nobody, "read", "report", "1", false)
	})

	t.Run("policy change visible at once", func(t *testing.T) {
		azExpect(t, srv, admin, vic, "export", "report", "1", false)
		p := azAllow(t, c, "role:viewer", "report:*", "export")
		azExpect(t, srv, admin, vic, "export", "report", "1", true)
		d := azDeny(t, c, "role:viewer", "report:1", "export")
		azExpect(t, srv, admin, vic, "export", "report", "1", false)
		azExpect(t, srv, admin, vic, "export", "report", "2", true)
		c.do(t, "DELETE", "/policies/"+d.ID, nil).expect(t, http.StatusNoContent, http.StatusOK)
		azExpect(t, srv, admin, vic, "export", "report", "1", true)
		c.do(t, "DELETE", "/policies/"+p.ID, nil).expect(t, http.StatusNoContent, http.StatusOK)
		azExpect(t, srv, admin, vic, "export", "report", "1", false)
	})

	t.Run("attribute conditions", func(t *testing.T) {
		c.do(t, "PUT", "/users/"+vic+"/roles/approver", nil).expect(t, http.StatusOK, http.StatusNoContent, http.StatusCreated)
		azCreatePolicy(t, c, map[string]any{"subject": "role:approver", "resource": "expense:*", "action": "approve", "effect": "allow",
			"condition": "r.ctx.amount < 1000"})
		azCreatePolicy(t, c, map[string]any{"subject": "role:approver", "resource": "file:*", "action": "read", "effect": "allow",
			"condition": "r.sub.department == r.obj.department"})
		withCtx := func(amount any) map[string]any {
			b := azEvalReq(vic, "approve", "expense", "e1")
			b["context"] = map[string]any{"amount": amount}
			return b
		}
		if !azEvaluate(t, srv, admin, withCtx(500)) {
			t.Error("approve 500 denied, want allowed (amount < 1000)")
		}
		if azEvaluate(t, srv, admin, withCtx(5000)) {
			t.Error("approve 5000 allowed, want denied")
		}
		file := func(subDept, objDept string) map[string]any {
			return map[string]any{
				"subject":  map[string]any{"type": "user", "id": vic, "properties": map[string]any{"department": subDept}},
				"action":   map[string]any{"name": "read"},
				"resource": map[string]any{"type": "file", "id": "f1", "properties": map[string]any{"department": objDept}},
			}
		}
		if !azEvaluate(t, srv, admin, file("sales", "sales")) {
			t.Error("same-department file read denied")
		}
		if azEvaluate(t, srv, admin, file("sales", "hr")) {
			t.Error("other-department file read allowed")
		}
		// A condition that cannot be evaluated (the attribute is missing)
		// is a clear 4xx, never a silent answer.
		r := azRoot(srv, admin).do(t, "POST", "/access/v1/evaluation", azEvalReq(vic, "approve", "expense", "e1"))
		if r.Status < 400 || r.Status > 499 {
			t.Errorf("condition over a missing attribute: status %d, want 4xx\n%s", r.Status, r.Body)
		}
		// A deny with a condition wins when it holds.
		azCreatePolicy(t, c, map[string]any{"subject": "role:approver", "resource": "expense:*", "action": "approve", "effect": "deny",
			"condition": "r.ctx.amount < 10"})
		if azEvaluate(t, srv, admin, withCtx(5)) {
			t.Error("approve 5 allowed although a conditional deny holds")
		}
		if !azEvaluate(t, srv, admin, withCtx(50)) {
			t.Error("approve 50 denied although only the allow condition holds")
		}
	})

	t.Run("errors", func(t *testing.T) {
		good := azEvalReq(vic, "read", "report", "1")
		// 401 without valid credentials.
		for name, token := range map[string]string{"none": "", "unknown key": "gh_" + randomHex(20), "garbage": "not-a-token"} {
			r := azRoot(srv, token).do(t, "POST", "/access/v1/evaluation", good)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401\n%s", name, r.Status, r.Body)
			}
			r = azRoot(srv, token).do(t, "POST", "/access/v1/evaluations", map[string]any{"evaluations": []any{good}})
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s (evaluations): status %d, want 401\n%s", name, r.Status, r.Body)
			}
		}
		// 403 for a plain user's key: they may not ask for decisions.
		plainKey := createAPIKey(t, srv, "nobody@example.com", "plain")
		for _, path := range []string{"/access/v1/evaluation", "/access/v1/evaluations"} {
			if r := azRoot(srv, plainKey).do(t, "POST", path, good); r.Status != http.StatusForbidden {
				t.Errorf("plain user key on %s: status %d, want 403\n%s", path, r.Status, r.Body)
			}
		}
		// 400 for malformed requests.
		for name, body := range map[string]any{
			"not JSON":              `{"subject": `,
			"not an object":         `[1, 2]`,
			"no subject":            map[string]any{"action": map[string]any{"name": "read"}, "resource": map[string]any{"type": "report", "id": "1"}},
			"no action":             map[string]any{"subject": map[string]any{"type": "user", "id": vic}, "resource": map[string]any{"type": "report", "id": "1"}},
			"no resource":           map[string]any{"subject": map[string]any{"type": "user", "id": vic}, "action": map[string]any{"name": "read"}},
			"subject without id":    map[string]any{"subject": map[string]any{"type": "user"}, "action": map[string]any{"name": "read"}, "resource": map[string]any{"type": "report", "id": "1"}},
			"resource without type": map[string]any{"subject": map[string]any{"type": "user", "id": vic}, "action": map[string]any{"name": "read"}, "resource": map[string]any{"id": "1"}},
			"action without name":   map[string]any{"subject": map[string]any{"type": "user", "id": vic}, "action": map[string]any{}, "resource": map[string]any{"type": "report", "id": "1"}},
			"subject is a string":   map[string]any{"subject": "vic", "action": map[string]any{"name": "read"}, "resource": map[string]any{"type": "report", "id": "1"}},
			"id is a number":        map[string]any{"subject": map[string]any{"type": "user", "id": 7}, "action": map[string]any{"name": "read"}, "resource": map[string]any{"type": "report", "id": "1"}},
		} {
			r := azRoot(srv, admin).do(t, "POST", "/access/v1/evaluation", body)
			if r.Status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400\n%s", name, r.Status, r.Body)
			}
		}
		// GET is not the evaluation method.
		if r := azRoot(srv, admin).get(t, "/access/v1/evaluation"); r.Status < 400 || r.Status > 499 {
			t.Errorf("GET /access/v1/evaluation: status %d, want 4xx", r.Status)
		}
	})
}

// TestAuthzEvaluationsBatch: POST /access/v1/evaluations with top-level
// defaults, per-item overrides, the three evaluations_semantic options, the
// single-request fallback and the limits.
func TestAuthzEvaluationsBatch(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := srv.AdminKey(t)
	c := api(srv, admin)
	azCreateRole(t, c, "editor")
	ed := createUser(t, srv, "ed@example.com", "editor-password-1", "editor")
	other := createUser(t, srv, "other@example.com", "other-password-1")
	azAllow(t, c, "role:editor", "document:*", "read")
	azAllow(t, c, "role:editor", "document:*", "edit")
	azDeny(t, c, "role:editor", "document:2", "read")

	res := func(id string) map[string]any {
		return map[string]any{"resource": map[string]any{"type": "document", "id": id}}
	}
	batch := func(semantic string, items ...map[string]any) map[string]any {
		b := map[string]any{
			"subject":     map[string]any{"type": "user", "id": ed},
			"action":      map[string]any{"name": "read"},
			"evaluations": items,
		}
		if semantic != "" {
			b["options"] = map[string]any{"evaluations_semantic": semantic}
		}
		return b
	}

	t.Run("defaults and overrides", func(t *testing.T) {
		items := []map[string]any{
			res("1"), // ed read document:1 → true
			res("2"), // ed read document:2 → denied
			{"action": map[string]any{"name": "edit"}, "resource": map[string]any{"type": "document", "id": "2"}},               // override action → true
			{"subject": map[string]any{"type": "user", "id": other}, "resource": map[string]any{"type": "document", "id": "1"}}, // override subject → false
			{"subject": map[string]any{"type": "user", "id": ed}, "action": map[string]any{"name": "delete"}, "resource": map[string]any{"type": "document", "id": "1"}},
		}
		want := []bool{true, false, true, false, false}
		for _, sem := range []string{"", "execute_all"} {
			got := azDecisions(azEvaluations(t, srv, admin, batch(sem, items...)))
			if azBools(got) != azBools(want) {
				t.Errorf("semantic %q: decisions %v, want %v", sem, got, want)
			}
		}
		// Without defaults: each item complete.
		full := map[string]any{"evaluations": []any{
			azEvalReq(ed, "read", "document", "1"),
			azEvalReq(ed, "read", "document", "2"),
			azEvalReq(other, "read", "document", "1"),
		}}
		if got := azDecisions(azEvaluations(t, srv, admin, full)); azBools(got) != azBools([]bool{true, false, false}) {
			t.Errorf("batch without defaults: %v, want [true false false]", got)
		}
		// A default context applies to items that have none.
		azCreatePolicy(t, c, map[string]any{"subject": "role:editor", "resource": "document:*", "action": "sign", "effect": "allow", "condition": "r.ctx.level >= 2"})
		ctxBatch := map[string]any{
			"subject": map[string]any{"type": "user", "id": ed},
			"action":  map[string]any{"name": "sign"},
			"context": map[string]any{"level": 3},
			"evaluations": []any{
				res("1"),
				map[string]any{"resource": map[string]any{"type": "document", "id": "1"}, "context": map[string]any{"level": 1}},
			},
		}
		if got := azDecisions(azEvaluations(t, srv, admin, ctxBatch)); azBools(got) != azBools([]bool{true, false}) {
			t.Errorf("batch with a default context: %v, want [true false]", got)
		}
	})

	t.Run("deny_on_first_deny", func(t *testing.T) {
		got := azEvaluations(t, srv, admin, batch("deny_on_first_deny", res("1"), res("2"), res("3")))
		if azBools(azDecisions(got)) != azBools([]bool{true, false}) {
			t.Errorf("deny_on_first_deny: %v, want [true false] (stop at the first deny)", azDecisions(got))
		}
		got = azEvaluations(t, srv, admin, batch("deny_on_first_deny", res("1"), res("3"), res("4")))
		if azBools(azDecisions(got)) != azBools([]bool{true, true, true}) {
			t.Errorf("deny_on_first_deny without a deny: %v, want all three true", azDecisions(got))
		}
	})

	t.Run("permit_on_first_permit", func(t *testing.T) {
		got := azEvaluations(t, srv, admin, batch("permit_on_first_permit", res("2"), res("1"), res("3")))
		if azBools(azDecisions(got)) != azBools([]bool{false, true}) {
			t.Errorf("permit_on_first_permit: %v, want [false true] (stop at the first permit)", azDecisions(got))
		}
		got = azEvaluations(t, srv, admin, batch("permit_on_first_permit", res("1"), res("2")))
		if azBools(azDecisions(got)) != azBools([]bool{true}) {
			t.Errorf("permit_on_first_permit starting with a permit: %v, want [true]", azDecisions(got))
		}
	})

	t.Run("execute_all keeps going", func(t *testing.T) {
		got := azEvaluations(t, srv, admin, batch("execute_all", res("2"), res("1"), res("2"), res("1")))
		if azBools(azDecisions(got)) != azBools([]bool{false, true, false, true}) {
			t.Errorf("execute_all: %v, want [false true false true]", azDecisions(got))
		}
	})

	t.Run("no evaluations array is a single evaluation", func(t *testing.T) {
		r := azRoot(srv, admin).do(t, "POST", "/access/v1/evaluations", azEvalReq(ed, "read", "document", "1")).expect(t, http.StatusOK)
		var d azDecisionDTO
		r.decode(t, &d)
		if d.Decision == nil || !*d.Decision {
			t.Errorf("evaluations without an array: %s, want {\"decision\": true}", r.Body)
		}
	})

	t.Run("errors", func(t *testing.T) {
		// An unknown semantic is a malformed request.
		if r := azRoot(srv, admin).do(t, "POST", "/access/v1/evaluations", batch("majority_vote", res("1"))); r.Status != http.StatusBadRequest {
			t.Errorf("unknown evaluations_semantic: status %d, want 400\n%s", r.Status, r.Body)
		}
		if r := azRoot(srv, admin).do(t, "POST", "/access/v1/evaluations", `{"evaluations": [`); r.Status != http.StatusBadRequest {
			t.Errorf("malformed JSON: status %d, want 400\n%s", r.Status, r.Body)
		}
		// An oversized batch is a clear 4xx.
		many := make([]map[string]any, 10000)
		for i := range many {
			many[i] = res("1")
		}
		if r := azRoot(srv, admin).do(t, "POST", "/access/v1/evaluations", batch("", many...)); r.Status != http.StatusBadRequest && r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("batch of 10000: status %d, want 400 or 413\n%.300s", r.Status, r.Body)
		}
		// An item without a resource and no default: either the whole
		// request is a 400, or that item alone is denied with an error in
		// its context (AuthZEN §7.2.1) and the others are still decided.
		r := azRoot(srv, admin).do(t, "POST", "/access/v1/evaluations", batch("", res("1"), map[string]any{"action": map[string]any{"name": "edit"}}, res("3")))
		azCheckItemError(t, r, []bool{true, false, true}, 1)
		// Likewise an item whose condition cannot be evaluated.
		r = azRoot(srv, admin).do(t, "POST", "/access/v1/evaluations", map[string]any{
			"subject": map[string]any{"type": "user", "id": ed},
			"evaluations": []any{
				map[string]any{"action": map[string]any{"name": "read"}, "resource": map[string]any{"type": "document", "id": "1"}},
				map[string]any{"action": map[string]any{"name": "sign"}, "resource": map[string]any{"type": "document", "id": "1"}},
				map[string]any{"action": map[string]any{"name": "edit"}, "resource": map[string]any{"type": "document", "id": "1"}},
			},
		})
		azCheckItemError(t, r, []bool{true, false, true}, 1)
	})
}

// checkItemError accepts a 400 for the whole batch, or a 200 whose item bad
// is false with an error in its context and whose other items are want.
func azCheckItemError(t *testing.T, r *apiResponse, want []bool, bad int) {
	t.Helper()
	switch r.Status {
	case http.StatusBadRequest:
		return
	case http.StatusOK:
	default:
		t.Errorf("batch with a bad item: status %d, want 400 or 200 with a per-item error\n%s", r.Status, r.Body)
		return
	}
	var out struct {
		Evaluations []azDecisionDTO `json:"evaluations"`
	}
	r.decode(t, &out)
	if len(out.Evaluations) != len(want) {
		t.Errorf("batch with a bad item: %d decisions, want %d\n%s", len(out.Evaluations), len(want), r.Body)
		return
	}
	for i, d := range out.Evaluations {
		if d.Decision == nil || *d.Decision != want[i] {
			t.Errorf("batch with a bad item: evaluations[%d] = %s, want decision %v", i, azJSON(t, d), want[i])
		}
	}
	if _, ok := out.Evaluations[bad].Context["error"]; !ok {
		t.Errorf("batch with a bad item: evaluations[%d] has no context.error: %s", bad, r.Body)
	}
}

// TestAuthzClientCredentials: an app registered with the client_credentials
// grant and the authzen:evaluate scope calls the decision API with its
// access token; a client without that scope may not.
func TestAuthzClientCredentials(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOpts{})
	admin := srv.AdminKey(t)
	c := api(srv, admin)
	azCreateRole(t, c, "support")
	sam := createUser(t, srv, "sam@example.com", "support-password-1", "support")
	azAllow(t, c, "role:support", "ticket:*", "read")

	var disc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	get(t, srv.URL+"/.well-known/openid-configuration").expect(t, http.StatusOK).decode(t, &disc)
	if disc.TokenEndpoint == "" {
		t.Fatal("no token_endpoint in discovery")
	}
	newClient := func(name string, scopes ...string) clientcredentials.Config {
		args := []string{"clients", "create", "--name", name, "--grant-type", "client_credentials"}
		for _, s := range scopes {
			args = append(args, "--scope", s)
		}
		var cl struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		out := mustCLI(t, srv, "", args...)
		if err := json.Unmarshal([]byte(out), &cl); err != nil || cl.ClientID == "" || cl.ClientSecret == "" {
			t.Fatalf("clients create printed %q: %v", out, err)
		}
		return clientcredentials.Config{ClientID: cl.ClientID, ClientSecret: cl.ClientSecret, TokenURL: disc.TokenEndpoint, Scopes: scopes}
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, httpClient)

	pep := newClient("pep", "authzen:evaluate")
	tok, err := pep.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials token for a client with authzen:evaluate: %v", err)
	}
	if !azCan(t, srv, tok.AccessToken, sam, "read", "ticket", "1") {
		t.Error("decision via a client-credentials token: read ticket:1 denied, want allowed")
	}
	if azCan(t, srv, tok.AccessToken, sam, "close", "ticket", "1") {
		t.Error("decision via a client-credentials token: close ticket:1 allowed, want denied")
	}
	got := azDecisions(azEvaluations(t, srv, tok.AccessToken, map[string]any{
		"subject":     map[string]any{"type": "user", "id": sam},
		"action":      map[string]any{"name": "read"},
		"evaluations": []any{map[string]any{"resource": map[string]any{"type": "ticket", "id": "1"}}, map[string]any{"resource": map[string]any{"type": "invoice", "id": "1"}}},
	}))
	if azBools(got) != azBools([]bool{true, false}) {
		t.Errorf("batch via a client-credentials token: %v, want [true false]", got)
	}
	// The token carries only its scope: no admin API.
	assertProblem(t, api(srv, tok.AccessToken).get(t, "/policies"), http.StatusForbidden)
	assertProblem(t, api(srv, tok.AccessToken).get(t, "/users"), http.StatusForbidden)

	// A client without the scope may not ask.
	reader := newClient("reader", "users:read")
	tok2, err := reader.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials token for a client with users:read: %v", err)
	}
	if r := azRoot(srv, tok2.AccessToken).do(t, "POST", "/access/v1/evaluation", azEvalReq(sam, "read", "ticket", "1")); r.Status != http.StatusForbidden {
		t.Errorf("client without authzen:evaluate: status %d, want 403\n%s", r.Status, r.Body)
	}
}

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// Helpers for the authorization tests (policies API and AuthZEN decisions).

// policyDTO is the CONTRACT's policies object, plus the optional attribute
// condition (ABAC) the issue asks for.
type azPolicyDTO struct {
	ID        string `json:"id"`
	Subject   string `json:"subject"`
	Resource  string `json:"resource"`
	Action    string `json:"action"`
	Effect    string `json:"effect"`
	Condition string `json:"condition,omitempty"`
}

// rule is the content of a policy, for comparisons that ignore ids.
func (p azPolicyDTO) rule() string {
	return strings.Join([]string{p.Subject, p.Resource, p.Action, p.Effect, p.Condition}, " | ")
}

// rule builds a policy body.
func azRule(subject, resource, action, effect string) map[string]any {
	return map[string]any{"subject": subject, "resource": resource, "action": action, "effect": effect}
}

// root returns a client for srv's root (not /api/v1): AuthZEN and
// well-known endpoints.
func azRoot(srv *server, token string) *apiClient {
	return &apiClient{base: srv.URL, token: token}
}

// createRole creates a custom role through /api/v1/roles.
func azCreateRole(t *testing.T, c *apiClient, name string) {
	t.Helper()
	c.do(t, "POST", "/roles", map[string]any{"name": name, "description": "e2e role " + name}).
		expect(t, http.StatusCreated, http.StatusOK)
}

// createPolicy creates a rule and checks the answer echoes it with an id.
func azCreatePolicy(t *testing.T, c *apiClient, body map[string]any) azPolicyDTO {
	t.Helper()
	var p azPolicyDTO
	c.do(t, "POST", "/policies", body).expect(t, http.StatusCreated, http.StatusOK).decode(t, &p)
	if p.ID == "" || p.Subject != body["subject"] || p.Resource != body["resource"] || p.Action != body["action"] || p.Effect != body["effect"] {
		t.Fatalf("POST /policies %v answered %+v", body, p)
	}
	return p
}

// allow creates an allow rule.
func azAllow(t *testing.T, c *apiClient, subject, resource, action string) azPolicyDTO {
	t.Helper()
	return azCreatePolicy(t, c, azRule(subject, resource, action, "allow"))
}

// deny creates a deny rule.
func azDeny(t *testing.T, c *apiClient, subject, resource, action string) azPolicyDTO {
	t.Helper()
	return azCreatePolicy(t, c, azRule(subject, resource, action, "deny"))
}

// listPolicies walks every page of /api/v1/policies.
func azListPolicies(t *testing.T, c *apiClient) []azPolicyDTO {
	t.Helper()
	var all []azPolicyDTO
	token := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("GET /policies: pagination does not end")
		}
		q := url.Values{"page_size": {"200"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var p page[azPolicyDTO]
		c.get(t, "/policies?"+q.Encode()).expect(t, http.StatusOK).decode(t, &p)
		all = append(all, p.Items...)
		if p.NextPageToken == "" {
			return all
		}
		token = p.NextPageToken
	}
}

// policySnapshot is the sorted list of every rule (id and content), to
// check that a refused request changed nothing.
func azSnapshot(t *testing.T, c *apiClient) []string {
	t.Helper()
	var out []string
	for _, p := range azListPolicies(t, c) {
		out = append(out, p.ID+" = "+p.rule())
	}
	sort.Strings(out)
	return out
}

// assertUnchanged compares two snapshots.
func azAssertUnchanged(t *testing.T, what string, before, after []string) {
	t.Helper()
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Fatalf("%s changed the policies:\nbefore:\n  %s\nafter:\n  %s", what,
			strings.Join(before, "\n  "), strings.Join(after, "\n  "))
	}
}

// hasRule reports whether the list holds a rule with that content.
func azHasRule(list []azPolicyDTO, subject, resource, action, effect string) bool {
	for _, p := range list {
		if p.Subject == subject && p.Resource == resource && p.Action == action && p.Effect == effect {
			return true
		}
	}
	return false
}

// rawDo sends body as is with the given content type.
func azRawDo(t *testing.T, c *apiClient, method, path, contentType string, body []byte) *apiResponse {
	t.Helper()
	u := c.base + path
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return readResponse(t, method, u, resp)
}

// evalReq builds an AuthZEN access evaluation request for a user.
func azEvalReq(userID, action, resType, resID string) map[string]any {
	return map[string]any{
		"subject":  map[string]any{"type": "user", "id": userID},
		"action":   map[string]any{"name": action},
		"resource": map[string]any{"type": resType, "id": resID},
	}
}

// decisionDTO is an AuthZEN decision.
type azDecisionDTO struct {
	Decision *bool          `json:"decision"`
	Context  map[string]any `json:"context"`
}

// evaluate posts body to /access/v1/evaluation and returns the decision;
// the answer must be 200 application/json with a boolean "decision".
func azEvaluate(t *testing.T, srv *server, token string, body any) bool {
	t.Helper()
	r := azRoot(srv, token).do(t, "POST", "/access/v1/evaluation", body).expect(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("POST /access/v1/evaluation: Content-Type %q, want application/json", ct)
	}
	var d azDecisionDTO
	r.decode(t, &d)
	if d.Decision == nil {
		t.Fatalf("POST /access/v1/evaluation: no boolean \"decision\" in %s", r.Body)
	}
	return *d.Decision
}

// can asks whether the user may perform action on <resType>:<resID>.
func azCan(t *testing.T, srv *server, token, userID, action, resType, resID string) bool {
	t.Helper()
	return azEvaluate(t, srv, token, azEvalReq(userID, action, resType, resID))
}

// expectDecision fails unless the decision is want.
func azExpect(t *testing.T, srv *server, token, userID, action, resType, resID string, want bool) {
	t.Helper()
	if got := azCan(t, srv, token, userID, action, resType, resID); got != want {
		t.Errorf("decision for user %s %s %s:%s = %v, want %v", userID, action, resType, resID, got, want)
	}
}

// waitDecision polls until the decision is want or limit passes; it
// returns how long it took, and fails the test on timeout.
func azWait(t *testing.T, srv *server, token, userID, action, resType, resID string, want bool, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(limit)
	for {
		if azCan(t, srv, token, userID, action, resType, resID) == want {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("on %s the decision for user %s %s %s:%s did not become %v within %s", srv.URL, userID, action, resType, resID, want, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// evaluations posts a batch and returns the decisions in order.
func azEvaluations(t *testing.T, srv *server, token string, body any) []azDecisionDTO {
	t.Helper()
	r := azRoot(srv, token).do(t, "POST", "/access/v1/evaluations", body).expect(t, http.StatusOK)
	var out struct {
		Evaluations []azDecisionDTO `json:"evaluations"`
	}
	r.decode(t, &out)
	if out.Evaluations == nil {
		t.Fatalf("POST /access/v1/evaluations: no \"evaluations\" array in %s", r.Body)
	}
	for i, d := range out.Evaluations {
		if d.Decision == nil {
			t.Fatalf("POST /access/v1/evaluations: evaluations[%d] has no boolean decision: %s", i, r.Body)
		}
	}
	return out.Evaluations
}

// decisions flattens a batch answer to booleans.
func azDecisions(ds []azDecisionDTO) []bool {
	out := make([]bool, len(ds))
	for i, d := range ds {
		out[i] = *d.Decision
	}
	return out
}

func azBools(b []bool) string { return fmt.Sprint(b) }

// userIDByEmail finds a user's id through the API.
func azUserID(t *testing.T, c *apiClient, email string) string {
	t.Helper()
	var all page[userDTO]
	c.get(t, "/users?page_size=200").expect(t, http.StatusOK).decode(t, &all)
	for _, u := range all.Items {
		if u.Email == email {
			return u.ID
		}
	}
	t.Fatalf("user %s not listed", email)
	return ""
}

// mustJSON encodes v.
func azJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// azBody encodes v as JSON unless it is already a string.
func azBody(t *testing.T, v any) []byte {
	t.Helper()
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	return azJSON(t, v)
}

package authz

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestPolicyUpdateAPI: PUT /api/v1/policies/{id} replaces a rule in place
// (same id, audited, applied at once); bad input, built-in rules and
// unknown ids change nothing.
func TestPolicyUpdateAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		api, svc := newAPI(t, db)
		ctx := principal.With(context.Background(), testTokens["admin"])
		p, err := svc.CreatePolicy(ctx, Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"})
		if err != nil {
			t.Fatal(err)
		}
		path := "/policies/" + p.ID
		api.Run(t, []testutil.Scenario{
			{Name: "no permission", Method: "PUT", Path: path, Token: "viewer", WantStatus: 403,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"*","effect":"allow"}`},
			{Name: "bad effect", Method: "PUT", Path: path, Token: "admin", WantStatus: 422, WantContains: []string{"effect"},
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"maybe"}`},
			{Name: "condition that does not parse", Method: "PUT", Path: path, Token: "admin", WantStatus: 400,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow","condition":"r.obj.owner =="}`},
			{Name: "built-in", Method: "PUT", Path: "/policies/00000000-0000-7000-8000-000000000005", Token: "admin", WantStatus: 409,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow"}`},
			{Name: "unknown", Method: "PUT", Path: "/policies/nope", Token: "admin", WantStatus: 404,
				Body: `{"subject":"role:viewer","resource":"docs:*","action":"read","effect":"allow"}`},
		}...)
		if ok, _ := svc.Can(context.Background(), testTokens["viewer"], principal.Resource{Type: "docs", ID: "1"}, "read"); !ok {
			t.Fatal("a refused update changed the rule")
		}
		api.Run(t, testutil.Scenario{Name: "update", Method: "PUT", Path: path, Token: "admin", WantStatus: 200,
			Body:         `{"subject":"role:viewer","resource":"docs:*","action":"write","effect":"allow"}`,
			WantContains: []string{`"id":"` + p.ID + `"`, `"action":"write"`}})
		if ok, _ := svc.Can(context.Background(), testTokens["viewer"], principal.Resource{Type: "docs", ID: "1"}, "read"); ok {
			t.Fatal("the old rule still applies after the update")
		}
		if ok, _ := svc.Can(context.Background(), testTokens["viewer"], principal.Resource{Type: "docs", ID: "1"}, "write"); !ok {
			t.Fatal("the new rule does not apply")
		}
		if auditCount(t, db, "policy.update") != 1 {
			t.Fatal("policy.update not audited once")
		}
	})
}

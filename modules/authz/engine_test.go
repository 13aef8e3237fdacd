package authz

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"
)

// builtIns mirrors the rules seeded by migrations/authz/*/00001.
var builtIns = []policyRow{
	{ID: "b1", Subject: "role:admin", Resource: "*:*", Action: "*", Effect: "allow", BuiltIn: true},
	{ID: "b2", Subject: "role:user-admin", Resource: "users:*", Action: "*", Effect: "allow", BuiltIn: true},
	{ID: "b3", Subject: "role:user-admin", Resource: "roles:*", Action: "*", Effect: "allow", BuiltIn: true},
	{ID: "b4", Subject: "role:user-admin", Resource: "roles:admin", Action: "assign", Effect: "deny", Condition: "!('admin' IN r.sub.roles)", BuiltIn: true},
	{ID: "b5", Subject: "role:auditor", Resource: "*:*", Action: "read", Effect: "allow", BuiltIn: true},
}

func testEngine(t testing.TB, extra []policyRow, parents [][2]string) *engine {
	t.Helper()
	e, err := newEngine(store{})
	if err != nil {
		t.Fatal(err)
	}
	rows := &snapshotRows{policies: append(append([]policyRow{}, builtIns...), extra...)}
	for _, p := range parents {
		rows.parents = append(rows.parents, parentRow{Role: p[0], Parent: p[1]})
	}
	if err := e.load(1, rows); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestModel(t *testing.T) {
	e := testEngine(t, []policyRow{
		{ID: "p1", Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"},
		{ID: "p2", Subject: "role:editor", Resource: "docs:*", Action: "update", Effect: "allow"},
		{ID: "p3", Subject: "role:staff", Resource: "docs:*", Action: "*", Effect: "allow"},
		{ID: "p4", Subject: "user:u-denied", Resource: "docs:secret", Action: "read", Effect: "deny"},
		{ID: "p5", Subject: "role:reporter", Resource: "reports:q-*", Action: "read", Effect: "allow"},
		{ID: "p6", Subject: "role:typed", Resource: "doc*:*", Action: "list", Effect: "allow"},
		{ID: "p7", Subject: "role:dept", Resource: "files:*", Action: "read", Effect: "allow", Condition: "r.sub.department == r.obj.department"},
		{ID: "p8", Subject: "role:office", Resource: "office:door", Action: "open", Effect: "allow", Condition: "r.ctx.hour >= 9 && r.ctx.hour < 17"},
		{ID: "p9", Subject: "user:u-direct", Resource: "docs:7", Action: "read", Effect: "allow"},
		{ID: "p10", Subject: "role:viewer", Resource: "docs:blocked", Action: "*", Effect: "deny"},
		{ID: "p11", Subject: "role:cidr", Resource: "net:*", Action: "connect", Effect: "allow", Condition: "ipMatch(r.ctx.ip, '10.0.0.0/8')"},
	}, [][2]string{{"editor", "viewer"}, {"chief", "editor"}})

	noon := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	night := time.Date(2026, 1, 5, 22, 0, 0, 0, time.UTC)
	user := func(id string, roles ...string) subject { return subject{Type: "user", ID: id, Roles: roles} }
	tests := []struct {
		name     string
		req      request
		now      time.Time
		want     bool
		wantRule string
		wantErr  error
	}{
		{name: "admin may do anything", req: request{Sub: user("a", "admin"), ResType: "signing-keys", ResID: "k1", Action: "rotate"}, want: true, wantRule: "b1"},
		{name: "no roles, nothing", req: request{Sub: user("n"), ResType: "users", ResID: "x", Action: "read"}},
		{name: "user-admin manages users", req: request{Sub: user("ua", "user-admin"), ResType: "users", ResID: "x", Action: "delete"}, want: true, wantRule: "b2"},
		{name: "user-admin assigns ordinary roles", req: request{Sub: user("ua", "user-admin"), ResType: "roles", ResID: "auditor", Action: "assign"}, want: true, wantRule: "b3"},
		{name: "user-admin may not grant admin (deny wins)", req: request{Sub: user("ua", "user-admin"), ResType: "roles", ResID: "admin", Action: "assign"}, want: false, wantRule: "b4"},
		{name: "admin with user-admin may grant admin", req: request{Sub: user("both", "user-admin", "admin"), ResType: "roles", ResID: "admin", Action: "assign"}, want: true},
		{name: "user-admin has no clients", req: request{Sub: user("ua", "user-admin"), ResType: "clients", ResID: "c", Action: "read"}},
		{name: "auditor reads everything", req: request{Sub: user("au", "auditor"), ResType: "audit-events", ResID: "*", Action: "read"}, want: true, wantRule: "b5"},
		{name: "auditor changes nothing", req: request{Sub: user("au", "auditor"), ResType: "users", ResID: "x", Action: "update"}},
		{name: "direct role", req: request{Sub: user("v", "viewer"), ResType: "docs", ResID: "1", Action: "read"}, want: true, wantRule: "p1"},
		{name: "inherited role", req: request{Sub: user("ed", "editor"), ResType: "docs", ResID: "1", Action: "read"}, want: true, wantRule: "p1"},
		{name: "two levels of inheritance", req: request{Sub: user("c", "chief"), ResType: "docs", ResID: "1", Action: "read"}, want: true},
		{name: "inheritance is one way", req: request{Sub: user("v", "viewer"), ResType: "docs", ResID: "1", Action: "update"}},
		{name: "inherited deny wins", req: request{Sub: user("c", "chief"), ResType: "docs", ResID: "blocked", Action: "read"}, want: false, wantRule: "p10"},
		{name: "role subject", req: request{Sub: subject{Type: "role", ID: "editor"}, ResType: "docs", ResID: "1", Action: "read"}, want: true},
		{name: "action wildcard", req: request{Sub: user("s", "staff"), ResType: "docs", ResID: "9", Action: "shred"}, want: true, wantRule: "p3"},
		{name: "user deny beats role allow", req: request{Sub: user("u-denied", "staff"), ResType: "docs", ResID: "secret", Action: "read"}, want: false, wantRule: "p4"},
		{name: "user deny is specific", req: request{Sub: user("u-denied", "staff"), ResType: "docs", ResID: "public", Action: "read"}, want: true},
		{name: "user rule", req: request{Sub: user("u-direct"), ResType: "docs", ResID: "7", Action: "read"}, want: true, wantRule: "p9"},
		{name: "user rule not for others", req: request{Sub: user("u-other"), ResType: "docs", ResID: "7", Action: "read"}},
		{name: "id prefix pattern", req: request{Sub: user("r", "reporter"), ResType: "reports", ResID: "q-2026", Action: "read"}, want: true},
		{name: "id prefix pattern miss", req: request{Sub: user("r", "reporter"), ResType: "reports", ResID: "annual", Action: "read"}},
		{name: "type prefix pattern", req: request{Sub: user("t", "typed"), ResType: "documents", ResID: "1", Action: "list"}, want: true},
		{name: "type prefix pattern miss", req: request{Sub: user("t", "typed"), ResType: "files", ResID: "1", Action: "list"}},
		{name: "condition true", req: request{Sub: subject{Type: "user", ID: "d", Roles: []string{"dept"}, Props: map[string]any{"department": "eng"}}, ResType: "files", ResID: "1", ResProp: map[string]any{"department": "eng"}, Action: "read"}, want: true, wantRule: "p7"},
		{name: "condition false", req: request{Sub: subject{Type: "user", ID: "d", Roles: []string{"dept"}, Props: map[string]any{"department": "eng"}}, ResType: "files", ResID: "1", ResProp: map[string]any{"department": "hr"}, Action: "read"}},
		{name: "condition on missing attribute is an error", req: request{Sub: user("d", "dept"), ResType: "files", ResID: "1", Action: "read"}, wantErr: ErrCondition},
		{name: "time condition inside hours", req: request{Sub: user("o", "office"), ResType: "office", ResID: "door", Action: "open"}, now: noon, want: true},
		{name: "time condition outside hours", req: request{Sub: user("o", "office"), ResType: "office", ResID: "door", Action: "open"}, now: night},
		{name: "context attribute", req: request{Sub: user("c", "cidr"), ResType: "net", ResID: "x", Action: "connect", Ctx: map[string]any{"ip": "10.1.2.3"}}, want: true},
		{name: "context attribute false", req: request{Sub: user("c", "cidr"), ResType: "net", ResID: "x", Action: "connect", Ctx: map[string]any{"ip": "192.0.2.1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = noon
			}
			// twice: the second answer may come from the decision cache
			for i := 0; i < 2; i++ {
				d, err := e.decide(tc.req, now)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("err = %v, want %v", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if d.Allowed != tc.want {
					t.Fatalf("allowed = %v, want %v (%s)", d.Allowed, tc.want, d.Reason)
				}
				if tc.wantRule != "" && d.RuleID != tc.wantRule {
					t.Fatalf("rule = %q, want %q", d.RuleID, tc.wantRule)
				}
			}
		})
	}
}

// TestDocsExample pins the worked example of README.md (Authorization model).
func TestDocsExample(t *testing.T) {
	e := testEngine(t, []policyRow{
		{ID: "v", Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"},
		{ID: "e", Subject: "role:editor", Resource: "docs:*", Action: "update", Effect: "allow"},
		{ID: "s", Subject: "role:viewer", Resource: "docs:salaries", Action: "*", Effect: "deny"},
		{ID: "f", Subject: "role:staff", Resource: "files:*", Action: "read", Effect: "allow",
			Condition: "r.sub.department == r.obj.department && r.ctx.hour >= 8 && r.ctx.hour < 18"},
	}, [][2]string{{"editor", "viewer"}})
	now := time.Date(2026, 1, 5, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		req  request
		want bool
	}{
		{request{Sub: subject{Type: "user", ID: "ed", Roles: []string{"editor"}}, ResType: "docs", ResID: "roadmap", Action: "read"}, true},
		{request{Sub: subject{Type: "user", ID: "ed", Roles: []string{"editor"}}, ResType: "docs", ResID: "salaries", Action: "read"}, false},
		{request{Sub: subject{Type: "user", ID: "ad", Roles: []string{"admin"}}, ResType: "docs", ResID: "salaries", Action: "read"}, true},
		{request{Sub: subject{Type: "user", ID: "st", Roles: []string{"staff"}, Props: map[string]any{"department": "eng"}}, ResType: "files", ResID: "plan.pdf",
			ResProp: map[string]any{"department": "eng"}, Action: "read", Ctx: map[string]any{"hour": 10.0}}, true},
		{request{Sub: subject{Type: "user", ID: "st", Roles: []string{"staff"}, Props: map[string]any{"department": "eng"}}, ResType: "files", ResID: "plan.pdf",
			ResProp: map[string]any{"department": "eng"}, Action: "read"}, false}, // 20:00 UTC
	} {
		d, err := e.decide(tc.req, now)
		if err != nil || d.Allowed != tc.want {
			t.Errorf("%+v: %+v %v, want %v", tc.req, d, err, tc.want)
		}
	}
}

func TestConditionValidation(t *testing.T) {
	for _, tc := range []struct {
		cond string
		ok   bool
	}{
		{"", true},
		{"r.sub.department == r.obj.department", true},
		{"r.ctx.hour >= 9 && r.ctx.hour < 17", true},
		{"'admin' IN r.sub.roles", true},
		{"regexMatch(r.obj.id, '^a')", true},
		{"r.sub.department ==", false},
		{"(((", false},
		{"p.sub == 'x'", false},
		{"secret == 1", false},
		{"nosuchfunc(r.sub.id)", false},
	} {
		err := validateCondition(tc.cond)
		if (err == nil) != tc.ok {
			t.Errorf("validateCondition(%q) = %v, want ok=%v", tc.cond, err, tc.ok)
		}
		var ve *validation.Error
		if err != nil && (!errors.As(err, &ve) || ve.Field != "condition") {
			t.Errorf("validateCondition(%q): error %v does not name the field", tc.cond, err)
		}
	}
}

func TestCacheNotUsedWhenConditionApplies(t *testing.T) {
	e := testEngine(t, []policyRow{
		{ID: "c1", Subject: "role:dept", Resource: "files:*", Action: "read", Effect: "allow", Condition: "r.sub.department == r.obj.department"},
	}, nil)
	mk := func(dep string) request {
		return request{Sub: subject{Type: "user", ID: "u", Roles: []string{"dept"}, Props: map[string]any{"department": "eng"}},
			ResType: "files", ResID: "1", ResProp: map[string]any{"department": dep}, Action: "read"}
	}
	for i, dep := range []string{"eng", "hr", "eng", "hr"} {
		d, err := e.decide(mk(dep), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != (dep == "eng") {
			t.Fatalf("call %d (%s): allowed = %v", i, dep, d.Allowed)
		}
	}
}

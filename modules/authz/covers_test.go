package authz

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// coversFixture adds, to the built-in rules, roles and users that exercise
// the no-escalation checks: an inheritance chain low → mid → top, a role
// holding a narrower right, a "user:<id>" rule, a conditional allow, a deny
// on one user-admin.
func coversFixture(t *testing.T, db database.DB) (*Service, *fakeRoles) {
	t.Helper()
	roles := newFakeRoles()
	for _, r := range []string{"ops", "low", "mid", "top", "reader", "narrow", "readall", "cond", "pre", "restricted"} {
		roles.roles[r] = true
	}
	roles.set("u-ops", "ops")
	roles.set("u-reader", "reader")
	roles.set("u-low", "low")
	roles.set("u-narrow", "narrow")
	roles.set("u-readall", "readall")
	roles.set("u-cond", "cond")
	roles.set("u-pre", "pre")
	roles.set("u-ua2", "user-admin")
	roles.set("u-uad", "user-admin")
	roles.set("u-both", "admin", "user-admin")
	roles.set("u-special")
	roles.set("u-restricted", "restricted")
	s := newTestService(t, db, roles, Options{})
	ctx := principal.With(context.Background(), principal.SystemPrincipal)
	for _, r := range []Rule{
		{Subject: "role:ops", Resource: "policies:*", Action: "*", Effect: Allow},
		{Subject: "role:top", Resource: "clients:*", Action: "read", Effect: Allow},
		{Subject: "role:reader", Resource: "clients:*", Action: "read", Effect: Allow},
		{Subject: "role:narrow", Resource: "users:42", Action: "read", Effect: Allow},
		{Subject: "role:readall", Resource: "users:*", Action: "read", Effect: Allow},
		{Subject: "role:cond", Resource: "docs:*", Action: "edit", Effect: Allow, Condition: "r.obj.owner == r.sub.id"},
		{Subject: "role:pre", Resource: "use*:*", Action: "*", Effect: Allow},
		{Subject: "user:u-special", Resource: "secrets:*", Action: "*", Effect: Allow},
		{Subject: "user:u-uad", Resource: "users:*", Action: "delete", Effect: Deny},
		{Subject: "role:restricted", Resource: "users:*", Action: "*", Effect: Allow},
		{Subject: "role:restricted", Resource: "users:*", Action: "delete", Effect: Deny},
	} {
		if _, err := s.CreatePolicy(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range [][2]string{{"low", "mid"}, {"mid", "top"}} {
		if err := s.AddRoleParent(ctx, e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}
	return s, roles
}

func TestCovers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		s, _ := coversFixture(t, db)
		scoped := func(id string, scopes ...string) principal.Principal {
			p := userP(id)
			p.Scopes = append([]string{}, scopes...)
			return p
		}
		client := func(scopes ...string) principal.Principal {
			return principal.Principal{Kind: principal.Client, ID: "c1", Via: principal.ViaAccessToken, Scopes: scopes}
		}
		rule := func(res, act string) Rule {
			return Rule{Subject: "role:viewer", Resource: res, Action: act, Effect: Allow}
		}
		cases := []struct {
			name string
			p    principal.Principal
			role string // CoversRole
			user string // CoversUser
			rule *Rule  // CoversRule
			want bool
		}{
			// Roles: built-ins.
			{name: "system covers admin", p: principal.SystemPrincipal, role: "admin", want: true},
			{name: "admin covers admin", p: userP("u-admin"), role: "admin", want: true},
			{name: "user-admin does not cover admin", p: userP("u-ua"), role: "admin", want: false},
			{name: "user-admin does not cover auditor (reads everything)", p: userP("u-ua"), role: "auditor", want: false},
			{name: "user-admin covers user-admin (its own deny comes with the role)", p: userP("u-ua"), role: "user-admin", want: true},
			{name: "user-admin does not cover ops (policies)", p: userP("u-ua"), role: "ops", want: false},
			{name: "user-admin covers a role without rules", p: userP("u-ua"), role: "viewer", want: true},
			{name: "auditor does not cover user-admin", p: userP("u-aud"), role: "user-admin", want: false},
			{name: "admin and user-admin covers admin (the conditional deny is false for admins)", p: userP("u-both"), role: "admin", want: true},
			{name: "a user-admin with a deny of its own does not cover user-admin", p: userP("u-uad"), role: "user-admin", want: false},
			{name: "user-admin covers a role whose deny matches its missing right", p: userP("u-uad"), role: "restricted", want: true},
			{name: "ops does not cover user-admin", p: userP("u-ops"), role: "user-admin", want: false},
			// Inheritance chains.
			{name: "the chain end grants the top's rule: reader covers low", p: userP("u-reader"), role: "low", want: true},
			{name: "user-admin does not cover low (inherited clients:* read)", p: userP("u-ua"), role: "low", want: false},
			{name: "low covers top (it inherits it)", p: userP("u-low"), role: "top", want: true},
			{name: "a plain user does not cover mid", p: userP("u-none"), role: "mid", want: false},
			// Scopes and clients.
			{name: "admin key scoped to users does not cover user-admin", p: scoped("u-admin", "users:*"), role: "user-admin", want: false},
			{name: "admin key scoped users+roles covers user-admin", p: scoped("u-admin", "users:*", "roles:*"), role: "user-admin", want: true},
			{name: "admin key scoped *:* covers admin", p: scoped("u-admin", "*:*"), role: "admin", want: true},
			{name: "admin key with empty scopes covers nothing", p: scoped("u-admin", []string{}...), role: "user-admin", want: false},
			{name: "client with users and roles scopes covers user-admin", p: client("users:*", "roles:*"), role: "user-admin", want: true},
			{name: "client with users:read does not cover user-admin", p: client("users:read", "roles:*"), role: "user-admin", want: false},
			{name: "principal without id covers nothing", p: principal.Principal{Kind: principal.User}, role: "top", want: false},

			// Users: roles, inheritance and user:<id> rules.
			{name: "user-admin covers a plain user", p: userP("u-ua"), user: "u-none", want: true},
			{name: "user-admin covers a fellow user-admin", p: userP("u-ua"), user: "u-ua2", want: true},
			{name: "user-admin does not cover an admin", p: userP("u-ua"), user: "u-admin", want: false},
			{name: "user-admin does not cover an auditor", p: userP("u-ua"), user: "u-aud", want: false},
			{name: "user-admin does not cover an ops member", p: userP("u-ua"), user: "u-ops", want: false},
			{name: "user-admin does not cover a user:<id> rule", p: userP("u-ua"), user: "u-special", want: false},
			{name: "user-admin does not cover a chain member", p: userP("u-ua"), user: "u-low", want: false},
			{name: "reader covers a chain member", p: userP("u-reader"), user: "u-low", want: true},
			{name: "admin covers anyone", p: userP("u-admin"), user: "u-special", want: true},
			{name: "denied user-admin does not cover a user-admin", p: userP("u-uad"), user: "u-ua", want: false},
			{name: "a user-admin covers the denied user-admin", p: userP("u-ua"), user: "u-uad", want: true},
			{name: "unknown user holds nothing", p: userP("u-none"), user: "u-ghost", want: true},
			{name: "scoped admin key does not cover a user-admin", p: scoped("u-admin", "users:*"), user: "u-ua", want: false},

			// Rules: patterns, actions, conditions, denies.
			{name: "narrow id does not cover users:*", p: userP("u-narrow"), rule: ptrRule(rule("users:*", "read")), want: false},
			{name: "narrow id covers itself", p: userP("u-narrow"), rule: ptrRule(rule("users:42", "read")), want: true},
			{name: "read does not cover action *", p: userP("u-readall"), rule: ptrRule(rule("users:*", "*")), want: false},
			{name: "users:* read covers users:7 read", p: userP("u-readall"), rule: ptrRule(rule("users:7", "read")), want: true},
			{name: "users:* read covers users:ab* read", p: userP("u-readall"), rule: ptrRule(rule("users:ab*", "read")), want: true},
			{name: "type prefix use* covers users:* *", p: userP("u-pre"), rule: ptrRule(rule("users:*", "*")), want: true},
			{name: "type prefix use* does not cover *:*", p: userP("u-pre"), rule: ptrRule(rule("*:*", "read")), want: false},
			{name: "type prefix use* does not cover us*:*", p: userP("u-pre"), rule: ptrRule(rule("us*:*", "read")), want: false},
			{name: "a deny is always covered", p: userP("u-none"), rule: &Rule{Subject: "role:viewer", Resource: "*:*", Action: "*", Effect: Deny}, want: true},
			{name: "ops covers policies:* read", p: userP("u-ops"), rule: ptrRule(rule("policies:*", "read")), want: true},
			{name: "ops does not cover clients:* read", p: userP("u-ops"), rule: ptrRule(rule("clients:*", "read")), want: false},
			{name: "own deny counts: denied user-admin does not cover users:* *", p: userP("u-uad"), rule: ptrRule(rule("users:*", "*")), want: false},
			{name: "own deny counts only where it overlaps", p: userP("u-uad"), rule: ptrRule(rule("users:*", "read")), want: true},
			{name: "user-admin's deny: roles:* * not covered", p: userP("u-ua"), rule: ptrRule(rule("roles:*", "*")), want: false},
			{name: "user-admin's deny: roles:editor assign covered", p: userP("u-ua"), rule: ptrRule(rule("roles:editor", "assign")), want: true},
			{name: "conditional allow covers the identical conditional rule", p: userP("u-cond"),
				rule: &Rule{Subject: "role:viewer", Resource: "docs:7", Action: "edit", Effect: Allow, Condition: "r.obj.owner == r.sub.id"}, want: true},
			{name: "conditional allow does not cover the unconditional right", p: userP("u-cond"), rule: ptrRule(rule("docs:*", "edit")), want: false},
			{name: "conditional allow does not cover another condition", p: userP("u-cond"),
				rule: &Rule{Subject: "role:viewer", Resource: "docs:*", Action: "edit", Effect: Allow, Condition: "r.ctx.hour < 6"}, want: false},
			{name: "unconditional holder covers a conditional rule", p: userP("u-admin"),
				rule: &Rule{Subject: "role:viewer", Resource: "docs:*", Action: "edit", Effect: Allow, Condition: "r.ctx.hour < 6"}, want: true},
			{name: "client scope users:* covers users:* read", p: client("users:*"), rule: ptrRule(rule("users:*", "read")), want: true},
			{name: "client scope users:* does not cover use*:* read", p: client("users:*"), rule: ptrRule(rule("use*:*", "read")), want: false},
		}
		ctx := context.Background()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var got bool
				var err error
				switch {
				case c.rule != nil:
					got, err = s.CoversRule(ctx, c.p, *c.rule)
				case c.user != "":
					got, err = s.CoversUser(ctx, c.p, c.user)
				default:
					got, err = s.CoversRole(ctx, c.p, c.role)
				}
				if err != nil || got != c.want {
					t.Fatalf("got %v, %v; want %v", got, err, c.want)
				}
			})
		}
	})
}

func ptrRule(r Rule) *Rule { return &r }

// TestNoEscalationAPI: the policy API refuses grants the caller does not
// hold with 403 naming the rule, and changes nothing.
func TestNoEscalationAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		api, svc := newAPI(t, db)
		roles := svc.roles.(*fakeRoles)
		roles.roles["ops"] = true
		roles.set("u-ops", "ops")
		ctx := principal.With(context.Background(), principal.SystemPrincipal)
		if _, err := svc.CreatePolicy(ctx, Rule{Subject: "role:ops", Resource: "policies:*", Action: "*", Effect: Allow}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreatePolicy(ctx, Rule{Subject: "role:editor", Resource: "docs:*", Action: "*", Effect: Allow}); err != nil {
			t.Fatal(err)
		}
		deny, err := svc.CreatePolicy(ctx, Rule{Subject: "role:editor", Resource: "clients:*", Action: "read", Effect: Deny})
		if err != nil {
			t.Fatal(err)
		}
		before, err := svc.ExportCSV(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		api.Run(t, []testutil.Scenario{
			{Name: "user-admin cannot inherit admin", Method: "PUT", Path: "/roles/user-admin/parents/admin", Token: "ua", WantStatus: 403,
				WantContains: []string{"role admin", "*:* * allow"}},
			{Name: "user-admin cannot make a role inherit auditor", Method: "PUT", Path: "/roles/viewer/parents/auditor", Token: "ua", WantStatus: 403},
			{Name: "ops cannot grant what it lacks", Method: "POST", Path: "/policies", Token: "ops", WantStatus: 403,
				Body: `{"subject":"role:ops","resource":"clients:*","action":"*","effect":"allow"}`, WantContains: []string{"role:ops clients:* * allow"}},
			{Name: "ops cannot grant *:*", Method: "POST", Path: "/policies", Token: "ops", WantStatus: 403,
				Body: `{"subject":"role:viewer","resource":"*:*","action":"read","effect":"allow"}`},
			{Name: "ops cannot replace with a rule it lacks", Method: "PUT", Path: "/policies", Token: "ops", WantStatus: 403,
				Body:         `{"policies":[{"subject":"role:ops","resource":"policies:*","action":"*","effect":"allow"},{"subject":"role:editor","resource":"docs:*","action":"*","effect":"allow"},{"subject":"role:editor","resource":"clients:*","action":"read","effect":"deny"},{"subject":"role:ops","resource":"users:*","action":"*","effect":"allow"}]}`,
				WantContains: []string{"role:ops users:* * allow"}},
			{Name: "ops cannot import a rule it lacks", Method: "POST", Path: "/policies/import", Token: "ops", Header: []string{"Content-Type", "text/csv"}, WantStatus: 403,
				Body: "p, role:ops, policies:*, *, allow\np, role:editor, docs:*, *, allow\np, role:editor, clients:*, read, deny\np, role:ops, signing-keys:*, rotate, allow\n"},
			{Name: "ops cannot import an edge to admin", Method: "POST", Path: "/policies/import", Token: "ops", Header: []string{"Content-Type", "text/csv"}, WantStatus: 403,
				Body: "p, role:ops, policies:*, *, allow\np, role:editor, docs:*, *, allow\np, role:editor, clients:*, read, deny\ng, role:ops, role:admin\n", WantContains: []string{"role admin"}},
			{Name: "ops cannot delete a deny on what it lacks", Method: "DELETE", Path: "/policies/" + deny.ID, Token: "ops", WantStatus: 403},
			{Name: "ops cannot drop a deny by replacing", Method: "PUT", Path: "/policies", Token: "ops", WantStatus: 403,
				Body: `{"policies":[{"subject":"role:ops","resource":"policies:*","action":"*","effect":"allow"},{"subject":"role:editor","resource":"docs:*","action":"*","effect":"allow"}]}`},
		}...)
		after, err := svc.ExportCSV(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if string(before) != string(after) {
			t.Fatalf("refused requests changed the policies:\n%s\n→\n%s", before, after)
		}
		mustCan(t, svc, userP("u-ua"), principal.Resource{Type: "policies", ID: "*"}, "read", false)
		api.Run(t, []testutil.Scenario{
			{Name: "ops may keep rules it could not create (they are not added)", Method: "PUT", Path: "/policies", Token: "ops", WantStatus: 200,
				Body: `{"policies":[{"subject":"role:ops","resource":"policies:*","action":"*","effect":"allow"},{"subject":"role:editor","resource":"docs:*","action":"*","effect":"allow"},{"subject":"role:editor","resource":"clients:*","action":"read","effect":"deny"},{"subject":"role:viewer","resource":"policies:*","action":"read","effect":"allow"}]}`},
			{Name: "ops grants what it holds", Method: "POST", Path: "/policies", Token: "ops", WantStatus: 201,
				Body: `{"subject":"role:viewer","resource":"policies:7","action":"delete","effect":"allow"}`},
			{Name: "ops may add any deny", Method: "POST", Path: "/policies", Token: "ops", WantStatus: 201,
				Body: `{"subject":"role:viewer","resource":"*:*","action":"*","effect":"deny"}`},
			{Name: "user-admin may make a role inherit user-admin", Method: "PUT", Path: "/roles/viewer/parents/user-admin", Token: "ua", WantStatus: 204},
			{Name: "admin may make a role inherit admin", Method: "PUT", Path: "/roles/chief/parents/admin", Token: "admin", WantStatus: 204},
		}...)
	})
}

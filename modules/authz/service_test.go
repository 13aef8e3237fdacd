package authz

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// fakeRoles is a hand-written RoleSource.
type fakeRoles struct {
	mu    sync.Mutex
	users map[string][]string
	roles map[string]bool
	calls atomic.Int64
}

func newFakeRoles() *fakeRoles {
	return &fakeRoles{
		users: map[string][]string{
			"u-admin": {"admin"}, "u-ua": {"user-admin"}, "u-aud": {"auditor"},
			"u-ed": {"editor"}, "u-view": {"viewer"}, "u-none": {},
		},
		roles: map[string]bool{"admin": true, "user-admin": true, "auditor": true, "editor": true, "viewer": true, "chief": true, "staff": true},
	}
}

func (f *fakeRoles) RolesOf(_ context.Context, id string) ([]string, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.users[id]...), nil
}

func (f *fakeRoles) RoleExists(_ context.Context, name string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.roles[name], nil
}

func (f *fakeRoles) set(id string, roles ...string) {
	f.mu.Lock()
	f.users[id] = roles
	f.mu.Unlock()
}

func newTestService(t testing.TB, db database.DB, roles RoleSource, opts Options) *Service {
	t.Helper()
	s, err := New(context.Background(), db, Deps{Roles: roles, Audit: audit.New(db)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func userP(id string) principal.Principal {
	return principal.Principal{Kind: principal.User, ID: id, Via: principal.ViaAPIKey}
}

func mustCan(t *testing.T, s *Service, p principal.Principal, res principal.Resource, action string, want bool) {
	t.Helper()
	got, err := s.Can(context.Background(), p, res, action)
	if err != nil {
		t.Fatalf("Can(%s, %s, %s): %v", p.ID, res, action, err)
	}
	if got != want {
		t.Fatalf("Can(%s %v, %s, %s) = %v, want %v", p.Kind, p.ID, res, action, got, want)
	}
}

func auditCount(t *testing.T, db database.DB, action string) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table("audit_events").Where("action = ?", action).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBuiltInPermissions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		s := newTestService(t, db, newFakeRoles(), Options{})
		users := principal.Resource{Type: "users", ID: "x"}
		mustCan(t, s, userP("u-admin"), principal.Resource{Type: "signing-keys", ID: "k"}, "rotate", true)
		mustCan(t, s, userP("u-admin"), principal.Resource{Type: "roles", ID: "admin"}, "assign", true)
		mustCan(t, s, userP("u-ua"), users, "delete", true)
		mustCan(t, s, userP("u-ua"), principal.Resource{Type: "roles", ID: "auditor"}, "assign", true)
		mustCan(t, s, userP("u-ua"), principal.Resource{Type: "roles", ID: "admin"}, "assign", false)
		mustCan(t, s, userP("u-ua"), principal.Resource{Type: "policies"}, "create", false)
		mustCan(t, s, userP("u-ua"), principal.Resource{Type: "clients"}, "read", false)
		mustCan(t, s, userP("u-aud"), principal.Resource{Type: "audit-events"}, "read", true)
		mustCan(t, s, userP("u-aud"), users, "update", false)
		mustCan(t, s, userP("u-none"), users, "read", false)
		mustCan(t, s, principal.SystemPrincipal, principal.Resource{Type: "policies"}, "delete", true)
		mustCan(t, s, userP("u-admin"), principal.Resource{Type: "authzen", ID: "decisions"}, "evaluate", true)

		// self-service
		own := principal.Resource{Type: "users", ID: "u-none", OwnerID: "u-none"}
		mustCan(t, s, userP("u-none"), own, "read", true)
		mustCan(t, s, userP("u-none"), own, "update", true)
		mustCan(t, s, userP("u-none"), own, "delete", false)
		mustCan(t, s, userP("u-none"), principal.Resource{Type: "api-keys", ID: "k", OwnerID: "u-none"}, "delete", true)
		mustCan(t, s, userP("u-none"), principal.Resource{Type: "api-keys", ID: "k", OwnerID: "someone"}, "delete", false)
		mustCan(t, s, userP("u-none"), principal.Resource{Type: "clients", ID: "c", OwnerID: "u-none"}, "read", false)

		// scopes: intersection
		scoped := userP("u-admin")
		scoped.Scopes = []string{"users:read"}
		mustCan(t, s, scoped, users, "read", true)
		mustCan(t, s, scoped, users, "update", false)
		scoped.Scopes = []string{}
		mustCan(t, s, scoped, users, "read", false)
		scopedSelf := userP("u-none")
		scopedSelf.Scopes = []string{"api-keys:*"}
		mustCan(t, s, scopedSelf, own, "read", false)
		mustCan(t, s, scopedSelf, principal.Resource{Type: "api-keys", ID: "k", OwnerID: "u-none"}, "create", true)

		// clients: exactly their scopes
		client := principal.Principal{Kind: principal.Client, ID: "c1", Via: principal.ViaAccessToken, Scopes: []string{"*:read"}}
		mustCan(t, s, client, users, "read", true)
		mustCan(t, s, client, users, "update", false)
		client.Scopes = nil
		mustCan(t, s, client, users, "read", false)
	})
}

func TestPolicyLifecycle(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := principal.With(context.Background(), userP("u-admin"))
		roles := newFakeRoles()
		s := newTestService(t, db, roles, Options{})
		docs := principal.Resource{Type: "docs", ID: "1"}
		mustCan(t, s, userP("u-view"), docs, "read", false)

		p, err := s.CreatePolicy(ctx, Rule{Subject: " role:viewer ", Resource: "docs:*", Action: "read", Effect: "ALLOW"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Effect != "allow" || p.Subject != "role:viewer" || p.ID == "" {
			t.Fatalf("policy = %+v", p)
		}
		mustCan(t, s, userP("u-view"), docs, "read", true) // at once, in this instance
		if n := auditCount(t, db, "policy.create"); n != 1 {
			t.Fatalf("policy.create events = %d", n)
		}
		if _, err := s.CreatePolicy(ctx, Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate: %v", err)
		}
		deny, err := s.CreatePolicy(ctx, Rule{Subject: "user:u-view", Resource: "docs:1", Action: "read", Effect: "deny"})
		if err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-view"), docs, "read", false)
		mustCan(t, s, userP("u-view"), principal.Resource{Type: "docs", ID: "2"}, "read", true)

		// inheritance: editor inherits viewer
		if err := s.AddRoleParent(ctx, "editor", "viewer"); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-ed"), docs, "read", true)
		if err := s.AddRoleParent(ctx, "viewer", "editor"); !errors.Is(err, ErrConflict) {
			t.Fatalf("cycle: %v", err)
		}
		if err := s.AddRoleParent(ctx, "editor", "nope"); err == nil {
			t.Fatal("unknown parent role accepted")
		}
		ps, err := s.RoleParents(ctx, "editor")
		if err != nil || len(ps) != 1 || ps[0].Parent != "viewer" {
			t.Fatalf("parents = %v, %v", ps, err)
		}

		// list with filter and pagination
		pg, err := s.ListPolicies(ctx, PolicyFilter{PageSize: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) != 3 || pg.NextPageToken == "" {
			t.Fatalf("pg 1 = %d items, token %q", len(pg.Items), pg.NextPageToken)
		}
		var all []Policy
		all = append(all, pg.Items...)
		for pg.NextPageToken != "" {
			if pg, err = s.ListPolicies(ctx, PolicyFilter{PageSize: 3, PageToken: pg.NextPageToken}); err != nil {
				t.Fatal(err)
			}
			all = append(all, pg.Items...)
		}
		if len(all) != 7 { // 5 built-in + 2
			t.Fatalf("listed %d policies", len(all))
		}
		pg, err = s.ListPolicies(ctx, PolicyFilter{Subject: "role:viewer"})
		if err != nil || len(pg.Items) != 1 {
			t.Fatalf("filter: %v %v", pg.Items, err)
		}
		if _, err := s.ListPolicies(ctx, PolicyFilter{PageToken: "!!"}); !errors.Is(err, page.ErrBadToken) {
			t.Fatalf("bad token: %v", err)
		}

		// delete
		if err := s.DeletePolicy(ctx, deny.ID); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-view"), docs, "read", true)
		if err := s.DeletePolicy(ctx, deny.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if err := s.DeletePolicy(ctx, "00000000-0000-7000-8000-000000000001"); !errors.Is(err, ErrBuiltIn) {
			t.Fatalf("delete built-in: %v", err)
		}
		if n := auditCount(t, db, "policy.delete"); n != 1 {
			t.Fatalf("policy.delete events = %d", n)
		}
	})
}

func TestValidation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		s := newTestService(t, db, newFakeRoles(), Options{})
		for _, tc := range []struct {
			rule  Rule
			field string
			parse bool
		}{
			{Rule{Subject: "group:x", Resource: "docs:*", Action: "read", Effect: "allow"}, "subject", false},
			{Rule{Subject: "role:ghost", Resource: "docs:*", Action: "read", Effect: "allow"}, "subject", false},
			{Rule{Subject: "role:viewer", Resource: "docs", Action: "read", Effect: "allow"}, "resource", false},
			{Rule{Subject: "role:viewer", Resource: "Docs:*", Action: "read", Effect: "allow"}, "resource", false},
			{Rule{Subject: "role:viewer", Resource: "docs:a b", Action: "read", Effect: "allow"}, "resource", false},
			{Rule{Subject: "role:viewer", Resource: "docs:*", Action: "", Effect: "allow"}, "action", false},
			{Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "permit"}, "effect", false},
			{Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow", Condition: "r.sub.x =="}, "condition", true},
			{Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow", Condition: "p.sub == 'x'"}, "condition", true},
		} {
			_, err := s.ValidateRule(ctx, tc.rule)
			var ve *validation.Error
			if !errors.As(err, &ve) || ve.Field != tc.field || ve.Parse != tc.parse {
				t.Errorf("%+v: err = %v, want field %s parse %v", tc.rule, err, tc.field, tc.parse)
			}
		}
		if _, err := s.ValidateRule(ctx, Rule{Subject: "user:0190-abc", Resource: "docs:*", Action: "*", Effect: "deny", Condition: "r.ctx.hour < 6"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestReplaceImportExport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := principal.With(context.Background(), userP("u-admin"))
		s := newTestService(t, db, newFakeRoles(), Options{})
		if _, err := s.CreatePolicy(ctx, Rule{Subject: "role:viewer", Resource: "old:*", Action: "read", Effect: "allow"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReplacePolicies(ctx, []Rule{
			{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"},
			{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"}, // duplicate: skipped
			{Subject: "role:admin", Resource: "*:*", Action: "*", Effect: "allow"},        // built-in: skipped
			{Subject: "role:staff", Resource: "files:*", Action: "read", Effect: "allow", Condition: "r.sub.department == r.obj.department"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("replace stored %d rules", len(got))
		}
		mustCan(t, s, userP("u-view"), principal.Resource{Type: "old", ID: "1"}, "read", false)
		mustCan(t, s, userP("u-view"), principal.Resource{Type: "docs", ID: "1"}, "read", true)
		_, err = s.ReplacePolicies(ctx, []Rule{{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"}, {Subject: "role:viewer", Resource: "x", Action: "read", Effect: "allow"}})
		var ve *validation.Error
		if !errors.As(err, &ve) || ve.Field != "policies[1].resource" {
			t.Fatalf("invalid replace: %v", err)
		}
		if _, err := s.ReplacePolicies(ctx, make([]Rule, MaxRules+1)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("too many: %v", err)
		}
		if err := s.AddRoleParent(ctx, "editor", "viewer"); err != nil {
			t.Fatal(err)
		}

		csvData, err := s.ExportCSV(ctx)
		if err != nil {
			t.Fatal(err)
		}
		text := string(csvData)
		for _, want := range []string{"p,role:admin,*:*,*,allow,\n", "p,role:staff,files:*,read,allow,r.sub.department == r.obj.department\n", "g,role:editor,role:viewer\n"} {
			if !strings.Contains(text, want) {
				t.Fatalf("export lacks %q:\n%s", want, text)
			}
		}

		// a broken import changes nothing
		bad := text + "p, role:viewer, docs:*, read, maybe\n"
		if _, err := s.ImportCSV(ctx, []byte(bad)); !errors.As(err, &ve) || !strings.Contains(ve.Field, "line ") {
			t.Fatalf("bad import: %v", err)
		}
		cycle := text + "g, role:viewer, role:editor\n"
		if _, err := s.ImportCSV(ctx, []byte(cycle)); !errors.Is(err, ErrConflict) {
			t.Fatalf("cyclic import: %v", err)
		}
		mustCan(t, s, userP("u-ed"), principal.Resource{Type: "docs", ID: "1"}, "read", true)

		// the export imports unchanged
		res, err := s.ImportCSV(ctx, csvData)
		if err != nil {
			t.Fatal(err)
		}
		if res.Policies != 2 || res.Parents != 1 {
			t.Fatalf("import = %+v", res)
		}
		again, err := s.ExportCSV(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != text {
			t.Fatalf("round trip changed the export:\n%s\nvs\n%s", again, text)
		}
		// a new file replaces rules and edges
		if _, err := s.ImportCSV(ctx, []byte("# comment\np, role:editor, wiki:*, \"update\", allow\n")); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-ed"), principal.Resource{Type: "docs", ID: "1"}, "read", false)
		mustCan(t, s, userP("u-ed"), principal.Resource{Type: "wiki", ID: "1"}, "update", true)
		if auditCount(t, db, "policy.import") != 2 || auditCount(t, db, "policy.replace") != 1 {
			t.Fatal("missing audit events")
		}
	})
}

// TestTwoInstances: a change made through one Service reaches another on the
// same database at its next poll, and through Run without a manual poll.
func TestTwoInstances(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := principal.With(context.Background(), userP("u-admin"))
		roles := newFakeRoles()
		a := newTestService(t, db, roles, Options{})
		b := newTestService(t, db, roles, Options{PollInterval: 20 * time.Millisecond})
		docs := principal.Resource{Type: "docs", ID: "1"}
		mustCan(t, b, userP("u-view"), docs, "read", false)

		p, err := a.CreatePolicy(ctx, Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"})
		if err != nil {
			t.Fatal(err)
		}
		mustCan(t, b, userP("u-view"), docs, "read", false) // b has not polled yet
		if err := b.poll(ctx); err != nil {
			t.Fatal(err)
		}
		mustCan(t, b, userP("u-view"), docs, "read", true)

		// the background loop
		runCtx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(runCtx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		if err := a.DeletePolicy(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			ok, err := b.Can(ctx, userP("u-view"), docs, "read")
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("instance b never saw the deletion")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestRoleCacheAndListener(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := principal.With(context.Background(), userP("u-admin"))
		roles := newFakeRoles()
		clock := testutil.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		s := newTestService(t, db, roles, Options{Now: clock.Now, RoleTTL: 5 * time.Second})
		users := principal.Resource{Type: "users", ID: "x"}
		mustCan(t, s, userP("u-x"), users, "read", false)
		mustCan(t, s, userP("u-x"), users, "read", false)
		if n := roles.calls.Load(); n != 1 {
			t.Fatalf("RolesOf called %d times, want 1 (cached)", n)
		}
		roles.set("u-x", "auditor")
		mustCan(t, s, userP("u-x"), users, "read", false) // still cached
		clock.Advance(6 * time.Second)
		mustCan(t, s, userP("u-x"), users, "read", true) // TTL expired

		roles.set("u-x")
		if err := s.UserChanged(ctx, "u-x"); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-x"), users, "read", false) // dropped at once

		// UserDeleted removes user:<id> rules inside the caller's transaction
		if _, err := s.CreatePolicy(ctx, Rule{Subject: "user:u-x", Resource: "docs:*", Action: "read", Effect: "allow"}); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-x"), principal.Resource{Type: "docs", ID: "1"}, "read", true)
		err := database.Transact(ctx, db.Gorm, func(ctx context.Context) error { return s.UserDeleted(ctx, "u-x") })
		if err != nil {
			t.Fatal(err)
		}
		if err := s.poll(ctx); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-x"), principal.Resource{Type: "docs", ID: "1"}, "read", false)
		page, err := s.ListPolicies(ctx, PolicyFilter{Subject: "user:u-x"})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("left %v, %v", page.Items, err)
		}
	})
}

func TestEvaluateAndPermissions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := principal.With(context.Background(), userP("u-admin"))
		s := newTestService(t, db, newFakeRoles(), Options{})
		if _, err := s.CreatePolicy(ctx, Rule{Subject: "role:staff", Resource: "files:*", Action: "read", Effect: "allow", Condition: "r.sub.department == r.obj.department"}); err != nil {
			t.Fatal(err)
		}
		req := EvalRequest{
			Subject:  Entity{Type: "role", ID: "staff", Properties: map[string]any{"department": "eng"}},
			Resource: Entity{Type: "files", ID: "1", Properties: map[string]any{"department": "eng"}},
			Action:   "read",
		}
		d, err := s.Evaluate(ctx, req)
		if err != nil || !d.Allowed || d.RuleID == "" {
			t.Fatalf("decision = %+v, %v", d, err)
		}
		req.Resource.Properties = nil
		if _, err := s.Evaluate(ctx, req); !errors.Is(err, ErrCondition) {
			t.Fatalf("missing attribute: %v", err)
		}
		d, err = s.Evaluate(ctx, EvalRequest{Subject: Entity{Type: "user", ID: "u-ua"}, Resource: Entity{Type: "roles", ID: "admin"}, Action: "assign"})
		if err != nil || d.Allowed || d.RuleID != "00000000-0000-7000-8000-000000000004" {
			t.Fatalf("user-admin assigning admin: %+v %v", d, err)
		}
		d, err = s.Evaluate(ctx, EvalRequest{Subject: Entity{Type: "group", ID: "x"}, Resource: Entity{Type: "roles", ID: "admin"}, Action: "assign"})
		if err != nil || d.Allowed {
			t.Fatalf("unsupported subject: %+v %v", d, err)
		}

		perms, err := s.PermissionsFor(ctx, "u-ua")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(perms, " ") != "roles:*#* users:*#*" {
			t.Fatalf("permissions = %v", perms)
		}
		perms, err = s.PermissionsFor(ctx, "u-none")
		if err != nil || len(perms) != 0 {
			t.Fatalf("permissions = %v, %v", perms, err)
		}
	})
}

func TestRoleDeleted(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := principal.With(context.Background(), userP("u-admin"))
		s := newTestService(t, db, newFakeRoles(), Options{})
		if _, err := s.CreatePolicy(ctx, Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddRoleParent(ctx, "editor", "viewer"); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-ed"), principal.Resource{Type: "docs", ID: "1"}, "read", true)
		if err := database.Transact(ctx, db.Gorm, func(ctx context.Context) error { return s.RoleDeleted(ctx, "viewer") }); err != nil {
			t.Fatal(err)
		}
		if err := s.poll(ctx); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-ed"), principal.Resource{Type: "docs", ID: "1"}, "read", false)
		mustCan(t, s, userP("u-view"), principal.Resource{Type: "docs", ID: "1"}, "read", false)
		if ps, err := s.RoleParents(ctx, "editor"); err != nil || len(ps) != 0 {
			t.Fatalf("edges left: %v %v", ps, err)
		}
		// built-in rules survive
		if err := s.RoleDeleted(ctx, "admin"); err != nil {
			t.Fatal(err)
		}
		mustCan(t, s, userP("u-admin"), principal.Resource{Type: "docs", ID: "1"}, "read", true)
	})
}

var errNoUser = errors.New("no such user")

type missingUsers struct{ *fakeRoles }

func (m missingUsers) RolesOf(ctx context.Context, id string) ([]string, error) {
	if id == "ghost" {
		return nil, errNoUser
	}
	return m.fakeRoles.RolesOf(ctx, id)
}

func TestUnknownUser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		s := newTestService(t, db, missingUsers{newFakeRoles()}, Options{IsUnknownUser: func(err error) bool { return errors.Is(err, errNoUser) }})
		mustCan(t, s, userP("ghost"), principal.Resource{Type: "users"}, "read", false)
		d, err := s.Evaluate(ctx, EvalRequest{Subject: Entity{Type: "user", ID: "ghost"}, Resource: Entity{Type: "users", ID: "1"}, Action: "read"})
		if err != nil || d.Allowed || d.Reason != "unknown subject" {
			t.Fatalf("decision = %+v, %v", d, err)
		}
		// other errors are not swallowed
		s2 := newTestService(t, db, missingUsers{newFakeRoles()}, Options{})
		if _, err := s2.Can(ctx, userP("ghost"), principal.Resource{Type: "users"}, "read"); !errors.Is(err, errNoUser) {
			t.Fatalf("err = %v", err)
		}
	})
}

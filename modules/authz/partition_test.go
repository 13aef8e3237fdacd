package authz

import (
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	defaultrolemanager "github.com/casbin/casbin/v2/rbac/default-role-manager"
	"github.com/casbin/casbin/v2/util"
)

// reference is the unpartitioned engine: one Casbin enforcer of the model
// holding every rule, as Gatehouse used before partitioning, with role
// inheritance in Casbin's own role manager.
type reference struct {
	enf     *casbin.Enforcer
	rm      *defaultrolemanager.RoleManagerImpl
	roles   []string          // every role name of the edges
	ruleIDs map[string]string // Rule.key() → policy id
}

func newReference(t testing.TB, rows *snapshotRows) *reference {
	t.Helper()
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		t.Fatal(err)
	}
	ref := &reference{rm: defaultrolemanager.NewRoleManagerImpl(10), ruleIDs: map[string]string{}}
	var rules []Rule
	for _, r := range rows.policies {
		rule := r.toPolicy().Rule()
		rules = append(rules, rule)
		ref.ruleIDs[rule.key()] = r.ID
	}
	for _, r := range rows.parents {
		if err := ref.rm.AddLink("role:"+r.Role, "role:"+r.Parent); err != nil {
			t.Fatal(err)
		}
		ref.roles = append(ref.roles, r.Role, r.Parent)
	}
	fns := matcherFunctions(nil)
	fns["subjectMatch"] = func(args ...any) (any, error) {
		sub, pattern := args[0].(map[string]any), args[1].(string)
		roles := []string{}
		for _, r := range sub["roles"].([]any) {
			roles = append(roles, r.(string))
		}
		return subjectMatches(sub["key"].(string), roles, pattern), nil
	}
	fns["g"] = util.GenerateGFunction(ref.rm)
	if ref.enf, err = newEnforcer(m, rules, fns); err != nil {
		t.Fatal(err)
	}
	return ref
}

// referenceMatcher is the model's matcher behind subjectMatch (which the
// engine's index does instead), with Casbin's own eval() in place of
// condition(), so the reference also checks that condition() evaluates a
// condition exactly as eval() does.
var referenceMatcher = func() string {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		panic(err)
	}
	const cond = "condition(p_cond, r_sub, r_obj, r_act, r_ctx)"
	matcher := m["m"]["m"].Value
	if strings.Count(matcher, cond) != 1 {
		panic("referenceMatcher: the model's matcher no longer calls " + cond)
	}
	return "subjectMatch(r_sub, p_sub) && " + strings.Replace(matcher, cond, "eval(p_cond)", 1)
}()

// effectiveRoles expands direct roles with Casbin's role manager.
func (ref *reference) effectiveRoles(direct []string) []string {
	var out []string
	for _, d := range direct {
		out = append(out, d)
		for _, r := range ref.roles {
			if ok, _ := ref.rm.HasLink("role:"+d, "role:"+r); ok {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// decide decides req with the unpartitioned enforcer.
func (ref *reference) decide(t testing.TB, req request, now time.Time) (Decision, error) {
	t.Helper()
	roles := req.Sub.Roles
	if req.Sub.Type == "role" {
		roles = []string{req.Sub.ID}
	}
	sub, obj, ctx := requestValues(req, ref.effectiveRoles(roles), now, true)
	ok, explain, err := ref.enf.EnforceExWithMatcher(referenceMatcher, sub, obj, req.Action, ctx)
	if err != nil {
		return Decision{}, fmt.Errorf("%w: %v", ErrCondition, err)
	}
	d := Decision{Allowed: ok}
	if len(explain) == 5 {
		d.RuleID = ref.ruleIDs[strings.Join(explain, "\x00")]
	}
	return d, nil
}

// TestPartitionedMatchesUnpartitioned compares the partitioned engine with
// one Casbin enforcer over all rules on randomized rule sets: decision,
// deciding rule and condition errors must agree, with the decision cache
// off and on.
func TestPartitionedMatchesUnpartitioned(t *testing.T) {
	types := []string{"docs", "doc*", "files", "*", "d*", "notes", "dx"}
	ids := []string{"1", "2", "a*", "*", "12", "1*"}
	actions := []string{"read", "update", "*", "delete"}
	conds := []string{
		"r.sub.level > 2",
		"r.obj.owner == r.sub.id",
		"r.ctx.hour >= 12",
		"r.sub.dept == 'eng'", // errs when the request has no dept
		"'r3' IN r.sub.roles",
		"r.obj.class != 'secret'", // errs without class
		"keyMatch(r.obj.id, '1*')",
		"g('role:' + r.sub.id, 'role:r2') || r.obj.class == 'x'", // the role graph (false for users); errs without class
	}
	reqTypes := []string{"docs", "documents", "files", "dx", "notes", "other"}
	reqIDs := []string{"1", "2", "a1", "12", "x", "*"}
	reqActions := []string{"read", "update", "delete", "assign"}
	var compared, allowed, denied, errored, byRule, typed, patterns int
	for seed := int64(1); seed <= 30; seed++ {
		rng := rand.New(rand.NewSource(seed))
		pick := func(s []string) string { return s[rng.Intn(len(s))] }
		nRoles := 4 + rng.Intn(10)
		var rows []policyRow
		seen := map[string]bool{}
		for i := 0; i < 20+rng.Intn(150); i++ {
			sub := fmt.Sprintf("role:r%d", rng.Intn(nRoles))
			if rng.Intn(5) == 0 {
				sub = fmt.Sprintf("user:u%d", rng.Intn(4))
			}
			r := Rule{Subject: sub, Resource: pick(types) + ":" + pick(ids), Action: pick(actions), Effect: Allow}
			if rng.Intn(4) == 0 {
				r.Effect = Deny
			}
			if rng.Intn(5) == 0 {
				r.Condition = pick(conds)
			}
			if seen[r.key()] {
				continue
			}
			seen[r.key()] = true
			rows = append(rows, policyRow{ID: fmt.Sprintf("s%d-%03d", seed, i), Subject: r.Subject, Resource: r.Resource,
				Action: r.Action, Effect: r.Effect, Condition: r.Condition})
		}
		// Acyclic inheritance: a role only inherits from higher-numbered roles.
		var parents [][2]string
		for i := 0; i < nRoles; i++ {
			for j := i + 1; j < nRoles; j++ {
				if rng.Intn(6) == 0 {
					parents = append(parents, [2]string{fmt.Sprintf("r%d", i), fmt.Sprintf("r%d", j)})
				}
			}
		}
		e := testEngine(t, rows, parents)
		for _, si := range e.snap.Load().index.bySubject {
			typed += len(si.byType)
			if si.patterns != nil {
				patterns++
			}
		}
		all := &snapshotRows{policies: append(append([]policyRow{}, builtIns...), rows...)}
		for _, p := range parents {
			all.parents = append(all.parents, parentRow{Role: p[0], Parent: p[1]})
		}
		ref := newReference(t, all)

		for i := 0; i < 400; i++ {
			var sub subject
			if rng.Intn(4) == 0 {
				sub = subject{Type: "role", ID: fmt.Sprintf("r%d", rng.Intn(nRoles+1))}
			} else {
				sub = subject{Type: "user", ID: fmt.Sprintf("u%d", rng.Intn(5))}
				for k := 0; k < nRoles; k++ {
					if rng.Intn(4) == 0 {
						sub.Roles = append(sub.Roles, fmt.Sprintf("r%d", k))
					}
				}
				if rng.Intn(10) == 0 {
					sub.Roles = append(sub.Roles, pick([]string{"admin", "user-admin", "auditor"}))
				}
			}
			sub.Props = map[string]any{"level": float64(rng.Intn(5))}
			if rng.Intn(2) == 0 {
				sub.Props["dept"] = pick([]string{"eng", "hr"})
			}
			req := request{Sub: sub, ResType: pick(reqTypes), ResID: pick(reqIDs), Action: pick(reqActions), Owner: pick([]string{"", "u1", "u2"})}
			if rng.Intn(2) == 0 {
				req.ResProp = map[string]any{"class": pick([]string{"secret", "public"})}
			}
			if rng.Intn(20) == 0 {
				req.ResType, req.ResID, req.Action = "roles", "admin", "assign"
			}
			now := time.Date(2026, 1, 5, rng.Intn(24), 0, 0, 0, time.UTC)

			want, wantErr := ref.decide(t, req, now)
			for _, cached := range []bool{false, true, true} {
				e.noCache = !cached
				got, err := e.decide(req, now)
				if (wantErr != nil) != (err != nil) || (err != nil && !errors.Is(err, ErrCondition)) {
					t.Fatalf("seed %d request %+v: err = %v, unpartitioned err = %v", seed, req, err, wantErr)
				}
				if err == nil && (got.Allowed != want.Allowed || got.RuleID != want.RuleID) {
					t.Fatalf("seed %d request %+v (cache %v): got %v by %q, unpartitioned %v by %q",
						seed, req, cached, got.Allowed, got.RuleID, want.Allowed, want.RuleID)
				}
			}
			compared++
			switch {
			case wantErr != nil:
				errored++
			case want.Allowed:
				allowed++
			default:
				denied++
			}
			if want.RuleID != "" && !want.Allowed {
				byRule++
			}
		}
	}
	t.Logf("%d requests: %d allowed, %d denied (%d by a deny rule), %d condition errors; %d partitions by type, %d of patterns",
		compared, allowed, denied, byRule, errored, typed, patterns)
	if typed < 100 || patterns < 50 {
		t.Fatalf("only %d partitions by type and %d of patterns", typed, patterns)
	}
	// The generator must exercise every outcome, or the comparison proves little.
	if allowed < compared/20 || denied < compared/20 || byRule < compared/50 || errored < compared/100 {
		t.Fatalf("unbalanced sample: %d allowed, %d denied, %d by deny rule, %d errors of %d", allowed, denied, byRule, errored, compared)
	}
}

// TestPartitionedErrorOrder pins the case the random test rarely hits: a
// partition fails on its second conditional rule, and another subject's
// deny comes between its first and second rule in load order. Casbin over
// all rules stops at that deny, so the decision is a denial, not an error;
// a deny after the failing rule leaves the error. The failing line is
// located by its condition, resource and action (partition.failedLine): an
// earlier line with the same condition on another resource is not it.
func TestPartitionedErrorOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rows    []policyRow
		wantErr bool
	}{
		{name: "deny before the failing condition", rows: []policyRow{
			{ID: "a1", Subject: "role:a", Resource: "docs:*", Action: "read", Effect: "allow", Condition: "r.sub.level > 2"},
			{ID: "b1", Subject: "role:b", Resource: "docs:*", Action: "read", Effect: "deny"},
			{ID: "a2", Subject: "role:a", Resource: "docs:*", Action: "read", Effect: "allow", Condition: "r.sub.dept == 'eng'"},
		}},
		{name: "deny before the failing condition, which an earlier line on another resource shares", rows: []policyRow{
			{ID: "a1", Subject: "role:a", Resource: "docs:2", Action: "read", Effect: "allow", Condition: "r.sub.dept == 'eng'"},
			{ID: "b1", Subject: "role:b", Resource: "docs:*", Action: "read", Effect: "deny"},
			{ID: "a2", Subject: "role:a", Resource: "docs:1", Action: "read", Effect: "allow", Condition: "r.sub.dept == 'eng'"},
		}},
		{name: "deny after the failing condition", wantErr: true, rows: []policyRow{
			{ID: "a1", Subject: "role:a", Resource: "docs:*", Action: "read", Effect: "allow", Condition: "r.sub.level > 2"},
			{ID: "a2", Subject: "role:a", Resource: "docs:*", Action: "read", Effect: "allow", Condition: "r.sub.dept == 'eng'"},
			{ID: "b1", Subject: "role:b", Resource: "docs:*", Action: "read", Effect: "deny"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testEngine(t, tc.rows, nil)
			e.noCache = true
			req := request{Sub: subject{Type: "user", ID: "u", Roles: []string{"a", "b"}, Props: map[string]any{"level": 1.0}},
				ResType: "docs", ResID: "1", Action: "read"}
			all := &snapshotRows{policies: append(append([]policyRow{}, builtIns...), tc.rows...)}
			now := time.Now()
			want, wantErr := newReference(t, all).decide(t, req, now)
			got, err := e.decide(req, now)
			if (wantErr != nil) != tc.wantErr || (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, unpartitioned err = %v, want error %v", err, wantErr, tc.wantErr)
			}
			if !tc.wantErr && (got.Allowed || got.RuleID != "b1" || want.RuleID != "b1") {
				t.Fatalf("got %+v, unpartitioned %+v, want denied by b1", got, want)
			}
		})
	}
}

// TestReloadIsAtomic alternates between two rule sets while decisions run
// (use -race): every decision must come from one set, never from the
// partitions of one and the other. A mix would allow the request.
func TestReloadIsAtomic(t *testing.T) {
	setA := &snapshotRows{policies: []policyRow{
		{ID: "a1", Subject: "role:r1", Resource: "docs:*", Action: "read", Effect: "allow"},
		{ID: "a2", Subject: "role:r2", Resource: "docs:1", Action: "read", Effect: "deny"},
	}}
	setB := &snapshotRows{policies: []policyRow{
		{ID: "b1", Subject: "role:r2", Resource: "docs:*", Action: "read", Effect: "allow"},
		{ID: "b2", Subject: "role:r1", Resource: "docs:1", Action: "read", Effect: "deny"},
	}}
	e, err := newEngine(store{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.load(1, setA); err != nil {
		t.Fatal(err)
	}
	e.noCache = true
	req := request{Sub: subject{Type: "user", ID: "u", Roles: []string{"r1", "r2"}}, ResType: "docs", ResID: "1", Action: "read"}
	done := make(chan struct{})
	errs := make(chan error, 2)
	for g := 0; g < 2; g++ {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				d, err := e.decide(req, time.Now())
				if err != nil || d.Allowed || (d.RuleID != "a2" && d.RuleID != "b2") {
					errs <- fmt.Errorf("decision %+v %v, want denied by a2 or b2", d, err)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		set := setA
		if i%2 == 0 {
			set = setB
		}
		if err := e.load(int64(i+2), set); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for g := 0; g < 2; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

package authz

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/casbin/casbin/v2/util"
	"github.com/casbin/govaluate"
)

// casbinModel is the one Casbin model Gatehouse uses (PERM syntax). Every
// enforcer of the module — each partition of the index (partition.go) and
// the plain enforcer of the differential test — is built from it by
// newEnforcer.
//
// Request r = sub, obj, act, ctx — built for every decision (decide.go):
//   - r.sub is a map: "type" ("user" or "role"), "id", "key" ("user:<id>"
//     or "role:<name>"), "roles" (the subject's effective role names: the
//     roles identity assigns, expanded through role inheritance), plus
//     every caller-supplied subject property (AuthZEN subject.properties).
//   - r.obj is a map: "type", "id", "key" ("<type>:<id>"), "owner" (the
//     owning user id, if any), plus resource properties.
//   - r.act is the action name.
//   - r.ctx is a map of context attributes: caller-supplied AuthZEN context,
//     and "time" (RFC 3339, UTC), "hour" (0–23 UTC) and "weekday" (0 = Sunday)
//     of the decision unless the caller sets them.
//
// r.sub and r.ctx are only read by conditions: a decision none of whose
// candidate rules has a condition passes empty maps (decide.go).
//
// Policy p = sub, obj, act, eft, cond: subject "role:<name>" or "user:<id>";
// resource "<type>:<id>" where either part may be "*" or end in "*"
// (keyMatch per part); action a name or "*" (Casbin's keyMatch, which for
// such patterns is equality or "*"); effect allow or deny; cond an
// optional govaluate expression over r.sub/r.obj/r.act/r.ctx.
//
// Subjects are matched by the index, not by the matcher: p.sub is the
// request's own key or "role:<r>" for one of its effective roles
// (subjectMatches), and every enforcer holds the rules of one subject
// only, asked only for requests that subject applies to. The model
// therefore declares no role definition: role→role inheritance
// (authz_role_parents, "role:child" inherits everything granted to
// "role:parent") is expanded in Go once per load (inheritance), into
// r.sub.roles and the g a condition may call. The differential test puts
// subjectMatch(r.sub, p.sub) in front of this matcher to decide with one
// enforcer over all rules.
//
// The matcher is written here once and kept short: on every call Casbin
// scans its text for eval() with a regular expression (about 11 ns a
// character) and copies its function map (Casbin's built-ins plus ours, so
// a built-in serves where it can). Its functions are Go (below), also
// called directly where the module reasons about rules without a request
// (PermissionsFor, and locating a failed condition in partition.go).
// condition() is Casbin's eval(p.cond) compiled once per load instead of
// once per line and call; the differential test checks it against eval.
//
// Effect: allowed iff some rule allows and no rule denies (deny wins).
const casbinModel = `
[request_definition]
r = sub, obj, act, ctx

[policy_definition]
p = sub, obj, act, eft, cond

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = resourceMatch(r.obj, p.obj) && keyMatch(r.act, p.act) && (p.cond == "" || condition(p.cond, r.sub, r.obj, r.act, r.ctx))
`

// newEnforcer returns an enforcer of casbinModel (m, parsed once per load)
// holding rules in order, with the matcher's functions fns.
func newEnforcer(m model.Model, rules []Rule, fns map[string]govaluate.ExpressionFunction) (*casbin.Enforcer, error) {
	m = m.Copy()
	for _, r := range rules {
		if err := persist.LoadPolicyArray([]string{"p", r.Subject, r.Resource, r.Action, r.Effect, r.Condition}, m); err != nil {
			return nil, fmt.Errorf("authz: load rule: %w", err)
		}
	}
	enf, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	enf.EnableAutoSave(false)
	for name, fn := range fns {
		enf.AddFunction(name, fn)
	}
	return enf, nil
}

// inheritance maps each role that inherits others (edges) to itself and
// every role it inherits, transitively, sorted. A cycle (refused by
// checkGraph, but the tables may be edited by hand) ends the walk.
func inheritance(edges []RoleParent) map[string][]string {
	parents := map[string][]string{}
	for _, e := range edges {
		parents[e.Role] = append(parents[e.Role], e.Parent)
	}
	out := make(map[string][]string, len(parents))
	for role := range parents {
		names := []string{role}
		for i := 0; i < len(names); i++ {
			for _, p := range parents[names[i]] {
				if !slices.Contains(names, p) {
					names = append(names, p)
				}
			}
		}
		slices.Sort(names)
		out[role] = names
	}
	return out
}

// roleLink is the g(child, parent) a condition may call, over the
// inheritance of one load (roles): true when the names are equal or
// "role:<child>" inherits "role:<parent>" — what Casbin's role manager
// answers over the same edges (the differential test checks it).
func roleLink(roles map[string][]string) govaluate.ExpressionFunction {
	return func(args ...any) (any, error) {
		child, ok1 := argString(args, 0)
		parent, ok2 := argString(args, 1)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: g(child, parent) takes two names", errArgs)
		}
		if child == parent {
			return true, nil
		}
		c, ok1 := strings.CutPrefix(child, "role:")
		p, ok2 := strings.CutPrefix(parent, "role:")
		if !ok1 || !ok2 {
			return false, nil
		}
		_, found := slices.BinarySearch(roles[c], p)
		return found, nil
	}
}

func argString(args []any, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(string)
	return s, ok
}

// subjectMatches: pattern is the subject's own key, or "role:<name>" for
// one of its effective roles (what the index matches, see casbinModel).
func subjectMatches(key string, roles []string, pattern string) bool {
	if pattern == key {
		return true
	}
	name, ok := strings.CutPrefix(pattern, "role:")
	if !ok {
		return false
	}
	for _, r := range roles {
		if r == name {
			return true
		}
	}
	return false
}

// resourceMatches applies keyMatch to the type and the id separately:
// "*" matches anything, "abc*" any value starting with "abc".
func resourceMatches(resType, resID, pattern string) bool {
	pt, pid, ok := strings.Cut(pattern, ":")
	return ok && util.KeyMatch(resType, pt) && util.KeyMatch(resID, pid)
}

// actionMatches is keyMatch in the matcher: pattern is "*" or the action
// (an action pattern has no other "*": Rule.Validate).
func actionMatches(action, pattern string) bool { return util.KeyMatch(action, pattern) }

var errArgs = errors.New("authz: bad matcher arguments")

// matcherFunctions are our functions in casbinModel's matcher; conds are
// the conditions of the rules loaded with them.
func matcherFunctions(conds conditions) map[string]govaluate.ExpressionFunction {
	return map[string]govaluate.ExpressionFunction{
		"resourceMatch": func(args ...any) (any, error) {
			if len(args) == 2 {
				obj, ok1 := args[0].(map[string]any)
				pattern, ok2 := args[1].(string)
				if ok1 && ok2 {
					typ, _ := obj["type"].(string)
					id, _ := obj["id"].(string)
					return resourceMatches(typ, id, pattern), nil
				}
			}
			return nil, fmt.Errorf("%w: resourceMatch(r.obj, p.obj)", errArgs)
		},
		"condition": conds.eval,
	}
}

// conditionFunctions are the functions a condition may call: Casbin's
// built-ins (keyMatch, regexMatch, ipMatch, globMatch, ...) and g, the role
// graph (child, parent) of the loaded inheritance (roleLink).
func conditionFunctions(g govaluate.ExpressionFunction) map[string]govaluate.ExpressionFunction {
	fm := model.LoadFunctionMap()
	fns := fm.GetFunctions()
	if g == nil {
		g = func(...any) (any, error) { return false, nil }
	}
	fns["g"] = g
	return fns
}

// conditions maps each condition text of a load to its compiled
// expression (or the error compiling it, reported when a request reaches
// the rule, as Casbin's eval() would).
type conditions map[string]compiled

type compiled struct {
	expr *govaluate.EvaluableExpression
	err  error
}

func compileConditions(rules []Rule, g govaluate.ExpressionFunction) conditions {
	c := conditions{}
	fns := conditionFunctions(g)
	for _, r := range rules {
		if _, done := c[r.Condition]; r.Condition != "" && !done {
			expr, err := govaluate.NewEvaluableExpressionWithFunctions(util.EscapeAssertion(r.Condition), fns)
			c[r.Condition] = compiled{expr: expr, err: err}
		}
	}
	return c
}

// conditionError is a condition that failed for a request; the partition
// locates its line (partition.enforce), so the decision can tell which
// came first, it or a deny.
type conditionError struct {
	cond string
	err  error
}

func (e *conditionError) Error() string { return e.err.Error() }

// eval is condition(p.cond, r.sub, r.obj, r.act, r.ctx): the condition's
// value, which must be a bool (true for an empty condition).
func (c conditions) eval(args ...any) (any, error) {
	if len(args) != 5 {
		return nil, fmt.Errorf("%w: condition takes 5 arguments", errArgs)
	}
	cond, _ := args[0].(string)
	if cond == "" {
		return true, nil
	}
	fail := func(err error) (any, error) { return nil, &conditionError{cond: cond, err: err} }
	cc, ok := c[cond]
	switch {
	case !ok:
		return fail(errors.New("condition was not compiled"))
	case cc.err != nil:
		return fail(cc.err)
	}
	v, err := cc.expr.Eval(govaluate.MapParameters{"r_sub": args[1], "r_obj": args[2], "r_act": args[3], "r_ctx": args[4]})
	if err != nil {
		return fail(err)
	}
	b, isBool := v.(bool)
	if !isBool {
		return fail(fmt.Errorf("condition %q yields %T, not a bool", clip(cond), v))
	}
	return b, nil
}

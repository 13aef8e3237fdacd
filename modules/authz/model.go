package authz

import (
	"errors"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/casbin/casbin/v2/util"
	"github.com/casbin/govaluate"
)

// casbinModel is the one Casbin model Gatehouse uses (PERM syntax). Every
// enforcer of the module — each partition of the index (partition.go), the
// role graph, and the plain enforcer of the differential test — is built
// from it by newEnforcer.
//
// Request r = sub, obj, act, ctx — built for every decision (decide.go):
//   - r.sub is a map: "type" ("user" or "role"), "id", "key" ("user:<id>"
//     or "role:<name>"), "roles" (the subject's effective role names: the
//     roles identity assigns, expanded through role→role inheritance g), plus
//     every caller-supplied subject property (AuthZEN subject.properties).
//   - r.obj is a map: "type", "id", "key" ("<type>:<id>"), "owner" (the
//     owning user id, if any), plus resource properties.
//   - r.act is the action name.
//   - r.ctx is a map of context attributes: caller-supplied AuthZEN context,
//     and "time" (RFC 3339, UTC), "hour" (0–23 UTC) and "weekday" (0 = Sunday)
//     of the decision unless the caller sets them.
//
// Policy p = sub, obj, act, eft, cond: subject "role:<name>" or "user:<id>";
// resource "<type>:<id>" where either part may be "*" or end in "*"
// (keyMatch per part); action a name or "*"; effect allow or deny; cond an
// optional govaluate expression over r.sub/r.obj/r.act/r.ctx.
//
// g = _, _ holds role→role inheritance ("role:child" inherits everything
// granted to "role:parent"), loaded from authz_role_parents. User→role
// membership is not stored here: it comes from identity at decision time and
// is expanded through g into r.sub.roles.
//
// The matcher is written here once. Its functions are Go (below), also
// called directly where the module reasons about rules without a request
// (PermissionsFor); the terms are ordered so the cheap, selective ones run
// first. condition() is Casbin's eval(p.cond) compiled once per load
// instead of once per line and call (the differential test checks it
// against eval); the p fields it also receives only name the rule in an
// error, so the decision can order it against denies of other partitions.
//
// Effect: allowed iff some rule allows and no rule denies (deny wins).
const casbinModel = `
[request_definition]
r = sub, obj, act, ctx

[policy_definition]
p = sub, obj, act, eft, cond

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = resourceMatch(r.obj, p.obj) && (p.act == r.act || p.act == "*") && subjectMatch(r.sub, p.sub) && condition(p.cond, r.sub, r.obj, r.act, r.ctx, p.sub, p.obj, p.act, p.eft)
`

// newEnforcer returns an enforcer of casbinModel (m, parsed once per load)
// holding rules in order and the role edges (child, parent role names),
// with the matcher's functions fns.
func newEnforcer(m model.Model, rules []Rule, edges []RoleParent, fns map[string]govaluate.ExpressionFunction) (*casbin.Enforcer, error) {
	m = m.Copy()
	for _, r := range rules {
		if err := persist.LoadPolicyArray([]string{"p", r.Subject, r.Resource, r.Action, r.Effect, r.Condition}, m); err != nil {
			return nil, fmt.Errorf("authz: load rule: %w", err)
		}
	}
	for _, g := range edges {
		if err := persist.LoadPolicyArray([]string{"g", "role:" + g.Role, "role:" + g.Parent}, m); err != nil {
			return nil, fmt.Errorf("authz: load role parent: %w", err)
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
	if len(edges) > 0 {
		if err := enf.BuildRoleLinks(); err != nil {
			return nil, fmt.Errorf("authz: role links: %w", err)
		}
	}
	return enf, nil
}

// subjectMatches: pattern is the subject's own key, or "role:<name>" for
// one of its effective roles (subjectMatch in the matcher).
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

func actionMatches(action, pattern string) bool { return pattern == "*" || pattern == action }

var errArgs = errors.New("authz: bad matcher arguments")

// matcherFunctions are the functions casbinModel's matcher calls; conds
// are the conditions of the rules loaded with them.
func matcherFunctions(conds conditions) map[string]govaluate.ExpressionFunction {
	return map[string]govaluate.ExpressionFunction{
		"subjectMatch": func(args ...any) (any, error) {
			sub, ok1 := args[0].(map[string]any)
			pattern, ok2 := args[1].(string)
			if len(args) != 2 || !ok1 || !ok2 {
				return nil, fmt.Errorf("%w: subjectMatch(r.sub, p.sub)", errArgs)
			}
			key, _ := sub["key"].(string)
			if pattern == key {
				return true, nil
			}
			// r.sub.roles is []any, so conditions can use IN.
			roles, _ := sub["roles"].([]any)
			name, isRole := strings.CutPrefix(pattern, "role:")
			for _, r := range roles {
				if isRole && r == name {
					return true, nil
				}
			}
			return false, nil
		},
		"resourceMatch": func(args ...any) (any, error) {
			obj, ok1 := args[0].(map[string]any)
			pattern, ok2 := args[1].(string)
			if len(args) != 2 || !ok1 || !ok2 {
				return nil, fmt.Errorf("%w: resourceMatch(r.obj, p.obj)", errArgs)
			}
			typ, _ := obj["type"].(string)
			id, _ := obj["id"].(string)
			return resourceMatches(typ, id, pattern), nil
		},
		"condition": conds.eval,
	}
}

// conditionFunctions are the functions a condition may call: Casbin's
// built-ins (keyMatch, regexMatch, ipMatch, globMatch, ...) and g, the role
// graph (child, parent) of the loaded inheritance edges.
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

// conditionError is a condition that failed for a request; rule names the
// line, so the decision can tell which came first, it or a deny (decide.go).
type conditionError struct {
	rule Rule
	err  error
}

func (e *conditionError) Error() string { return e.err.Error() }

// eval is condition(p.cond, r.sub, r.obj, r.act, r.ctx, p.sub, p.obj,
// p.act, p.eft): true for a rule without a condition, else the condition's
// value, which must be a bool.
func (c conditions) eval(args ...any) (any, error) {
	if len(args) != 9 {
		return nil, fmt.Errorf("%w: condition takes 9 arguments", errArgs)
	}
	cond, _ := args[0].(string)
	if cond == "" {
		return true, nil
	}
	str := func(v any) string { s, _ := v.(string); return s }
	fail := func(err error) (any, error) {
		return nil, &conditionError{err: err, rule: Rule{Subject: str(args[5]), Resource: str(args[6]),
			Action: str(args[7]), Effect: str(args[8]), Condition: cond}}
	}
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

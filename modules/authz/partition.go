package authz

import (
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/casbin/casbin/v2/util"
	"github.com/casbin/govaluate"
)

// Partitioning by subject.
//
// A rule can only match a request whose subject it names: p.sub is the
// request's own key ("user:<id>" / "role:<name>") or "role:<r>" for one of
// its effective roles (subjectMatch). So instead of one enforcer holding
// every rule — Casbin evaluates every policy line for every request — each
// subject's rules get Casbin enforcers of their own, and a decision runs
// only the enforcers of the subjects that apply: the request's key plus one
// per effective role (inherited ones included).
//
// Each subject has up to two enforcers: one for its unconditional rules,
// whose matcher is the model's matcher without the terms that are true for
// every line in it (subjectMatch and "(p.cond == "" || eval(p.cond))"),
// and one for its
// conditional rules with the full model (and the role links, since a
// condition may call g). The split matters because Casbin compiles the
// matcher again on every call when it contains eval(); without eval the
// compiled matcher is reused.
//
// Casbin's effect "some allow && !some deny" walks the lines in order and
// stops at the first matching deny (or at the first error), else reports
// the first matching allow. Each line keeps its load-order index; the
// per-enforcer outcomes are merged by that index (the earliest deny or
// error wins, else the earliest allow), which gives exactly the decision,
// the deciding rule and the errors of one enforcer over all rules.
//
// Two filters keep Casbin from evaluating lines that cannot match, without
// changing the outcome: an enforcer none of whose lines matches the
// request's resource and action (checked in Go with the matcher's own
// functions) is not asked, since its conditions would not run either; and
// a subject with more than splitAbove unconditional rules has those on an
// exact resource type spread over buckets by type, so a request only asks
// the bucket of its type (rules on a type pattern stay in one enforcer).

// plainMatcher is casbinModel's matcher for the unconditional rules of one
// subject: the condition term is true for every such line, and so is
// subjectMatch, since a decision only runs the partitions of subjects that
// apply to it (engine.subjectsOf).
const plainMatcher = "resourceMatch(r.obj, p.obj) && actionMatch(r.act, p.act)"

// plainModel is casbinModel for unconditional rules: same request, policy
// and effect, no role definition (nothing calls g), plainMatcher.
var plainModel = func() string {
	full := "subjectMatch(r.sub, p.sub) && " + plainMatcher + ` && (p.cond == "" || eval(p.cond))`
	if !strings.Contains(casbinModel, "m = "+full+"\n") {
		panic("authz: casbinModel's matcher changed; update plainMatcher")
	}
	s := strings.Replace(casbinModel, "m = "+full, "m = "+plainMatcher, 1)
	if s == casbinModel {
		panic("authz: plainModel")
	}
	return strings.Replace(s, "[role_definition]\ng = _, _\n", "", 1)
}()

// partition is one Casbin enforcer over some rules of one subject.
type partition struct {
	enf *casbin.Enforcer
	// idx[i] is the load-order index of the enforcer's line i.
	idx []int
	// actions named by the lines; anyAction when one of them is "*".
	actions   map[string]bool
	anyAction bool
	// rules are the lines, for mayMatch, conditionMayApply and error
	// location.
	rules []Rule
	cond  bool
}

// subjectRules are the partitions of one subject.
type subjectRules struct {
	// parts are asked for every request (filtered by mayMatch).
	parts []*partition
	// byType holds the unconditional rules on an exact resource type of a
	// subject with more than splitAbove of them, in buckets by a hash of
	// the type: a request only needs the bucket of its type. nil when the
	// subject's rules are not split.
	byType      []*partition
	conditional []Rule // rules with a condition, for conditionMayApply
}

// splitAbove is the number of unconditional rules above which a subject's
// rules are split by resource type, about splitAbove rules per bucket.
var splitAbove = 32

// bucket returns the partition of sr's split rules a request on resType
// needs, or nil.
func (sr *subjectRules) bucket(resType string) *partition {
	if len(sr.byType) == 0 {
		return nil
	}
	return sr.byType[typeBucket(resType, len(sr.byType))]
}

// typeBucket hashes a resource type (FNV-1a) into n buckets.
func typeBucket(typ string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(typ); i++ {
		h ^= uint32(typ[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// mayMatch reports whether a line of p can match a request for action on
// resType:resID. A partition without such a line cannot match, and its
// conditions never run (the matcher's && stops at resourceMatch or
// actionMatch), so Casbin need not be asked.
func (p *partition) mayMatch(resType, resID, action string) bool {
	if !p.anyAction && !p.actions[action] {
		return false
	}
	for _, r := range p.rules {
		if actionMatches(action, r.Action) && resourceMatches(resType, resID, r.Resource) {
			return true
		}
	}
	return false
}

// buildPartitions groups rules by subject. parents are the g lines
// (role:child, role:parent) the conditional enforcers need.
func buildPartitions(rules []Rule, parents [][]string) (map[string]*subjectRules, error) {
	plainM, err := model.NewModelFromString(plainModel)
	if err != nil {
		return nil, fmt.Errorf("authz: plain model: %w", err)
	}
	fullM, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	type group struct{ plain, cond []int }
	groups := map[string]*group{}
	var order []string
	for i, r := range rules {
		g := groups[r.Subject]
		if g == nil {
			g = &group{}
			groups[r.Subject] = g
			order = append(order, r.Subject)
		}
		if r.Condition == "" {
			g.plain = append(g.plain, i)
		} else {
			g.cond = append(g.cond, i)
		}
	}
	out := make(map[string]*subjectRules, len(groups))
	for _, sub := range order {
		g := groups[sub]
		sr := &subjectRules{}
		plain := g.plain
		if len(plain) > splitAbove {
			// Rules on a type pattern ("*", "doc*") stay together; the
			// others go to their type's bucket.
			var patterns []int
			var buckets [][]int
			n := 0
			for _, i := range plain {
				if !strings.Contains(resourceType(rules[i].Resource), "*") {
					n++
				}
			}
			if k := (n + splitAbove - 1) / splitAbove; k > 1 {
				buckets = make([][]int, k)
				for _, i := range plain {
					typ := resourceType(rules[i].Resource)
					if strings.Contains(typ, "*") {
						patterns = append(patterns, i)
					} else {
						b := typeBucket(typ, k)
						buckets[b] = append(buckets[b], i)
					}
				}
				sr.byType = make([]*partition, k)
				for b, idx := range buckets {
					if len(idx) == 0 {
						continue
					}
					if sr.byType[b], err = newPartition(plainM, rules, idx, nil); err != nil {
						return nil, err
					}
				}
				plain = patterns
			}
		}
		if len(plain) > 0 {
			p, err := newPartition(plainM, rules, plain, nil)
			if err != nil {
				return nil, err
			}
			sr.parts = append(sr.parts, p)
		}
		if len(g.cond) > 0 {
			p, err := newPartition(fullM, rules, g.cond, parents)
			if err != nil {
				return nil, err
			}
			p.cond = true
			sr.parts = append(sr.parts, p)
			sr.conditional = p.rules
		}
		out[sub] = sr
	}
	return out, nil
}

// resourceType is the type part of a rule's resource ("docs" of "docs:1").
func resourceType(resource string) string {
	typ, _, _ := strings.Cut(resource, ":")
	return typ
}

func newPartition(base model.Model, rules []Rule, idx []int, parents [][]string) (*partition, error) {
	m := base.Copy()
	p := &partition{idx: idx, actions: map[string]bool{}, rules: make([]Rule, len(idx))}
	for i, j := range idx {
		r := rules[j]
		p.rules[i] = r
		if r.Action == "*" {
			p.anyAction = true
		} else {
			p.actions[r.Action] = true
		}
		if err := persist.LoadPolicyArray([]string{"p", r.Subject, r.Resource, r.Action, r.Effect, r.Condition}, m); err != nil {
			return nil, fmt.Errorf("authz: load rule: %w", err)
		}
	}
	for _, g := range parents {
		if err := persist.LoadPolicyArray(append([]string{"g"}, g...), m); err != nil {
			return nil, fmt.Errorf("authz: load role parent: %w", err)
		}
	}
	enf, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	enf.EnableAutoSave(false)
	for name, fn := range modelFunctions() {
		enf.AddFunction(name, fn)
	}
	if len(parents) > 0 {
		if err := enf.BuildRoleLinks(); err != nil {
			return nil, fmt.Errorf("authz: role links: %w", err)
		}
	}
	p.enf = enf
	return p, nil
}

// outcome of evaluating the partitions of one request, merged by
// load-order index (-1: none).
type outcome struct {
	firstDeny  int
	firstAllow int
	firstErr   int
	err        error
}

func newOutcome() outcome { return outcome{firstDeny: -1, firstAllow: -1, firstErr: -1} }

func earlier(a, b int) bool { return a >= 0 && (b < 0 || a < b) }

// enforce runs one partition and merges its outcome into o. ruleIdx maps
// a line (Rule.key()) to its load-order index.
func (p *partition) enforce(o *outcome, ruleIdx map[string]int, sub, obj map[string]any, act string, ctx map[string]any) {
	ok, explain, err := p.enf.EnforceEx(sub, obj, act, ctx)
	if err != nil {
		i := p.errorIndex(sub, obj, act, ctx)
		if earlier(i, o.firstErr) {
			o.firstErr, o.err = i, err
		}
		return
	}
	if len(explain) != 5 {
		return
	}
	i, found := ruleIdx[strings.Join(explain, "\x00")]
	if !found {
		return
	}
	if ok {
		if earlier(i, o.firstAllow) {
			o.firstAllow = i
		}
	} else if earlier(i, o.firstDeny) {
		o.firstDeny = i
	}
}

// errorIndex locates the line whose evaluation failed in a partition that
// returned an error: the first line whose subject, resource and action
// match and whose condition fails to evaluate. It runs only on the error
// path. If no line can be blamed (it should not happen), the first
// conditional line that reaches its condition is, so the error is kept.
func (p *partition) errorIndex(sub, obj map[string]any, act string, ctx map[string]any) int {
	key, _ := sub["key"].(string)
	var roles []string
	if rs, ok := sub["roles"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				roles = append(roles, s)
			}
		}
	}
	typ, _ := obj["type"].(string)
	id, _ := obj["id"].(string)
	var fns map[string]govaluate.ExpressionFunction
	params := govaluate.MapParameters{"r_sub": sub, "r_obj": obj, "r_act": act, "r_ctx": ctx}
	fallback := -1
	for i, r := range p.rules {
		if r.Condition == "" || !subjectMatches(key, roles, r.Subject) || !resourceMatches(typ, id, r.Resource) || !actionMatches(act, r.Action) {
			continue
		}
		if fallback < 0 {
			fallback = p.idx[i]
		}
		if fns == nil {
			fns = conditionFunctions()
			if rm := p.enf.GetRoleManager(); rm != nil {
				fns["g"] = util.GenerateGFunction(rm)
			}
		}
		if conditionFails(r.Condition, fns, params) {
			return p.idx[i]
		}
	}
	return fallback
}

// conditionFails evaluates cond the way Casbin's eval() does and reports
// whether it errs or yields a non-boolean (which fails the matcher's ||).
func conditionFails(cond string, fns map[string]govaluate.ExpressionFunction, params govaluate.MapParameters) bool {
	expr, err := govaluate.NewEvaluableExpressionWithFunctions(util.EscapeAssertion(cond), fns)
	if err != nil {
		return true
	}
	v, err := expr.Eval(params)
	if err != nil {
		return true
	}
	_, isBool := v.(bool)
	return !isBool
}

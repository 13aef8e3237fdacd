package authz

import (
	"errors"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/govaluate"
)

// The per-subject index.
//
// A rule can only match a request whose subject it names (subjectMatches:
// the request's own key, or one of its effective roles), and a rule on an
// exact resource type ("docs:…") only a request on that type (keyMatch
// without "*" is equality). So the rules are grouped by subject and, within
// a subject, by exact resource type, with one more group for the rules
// whose type is a pattern ("*", "doc*"). Each group is a Casbin enforcer of
// the one model holding its rules in load order — a partition. A decision
// asks only the partitions of its subjects for its resource type: over
// 10,000 rules that is a handful of lines instead of all of them.
//
// Casbin's effect "some allow && !some deny" walks lines in load order and
// stops at the first matching deny or the first error, else reports the
// first matching allow. Merging the partitions' outcomes by load order (the
// earliest deny or error wins, else the earliest allow; see outcome) gives
// exactly the decision, deciding rule and error of one enforcer over all
// rules — which TestPartitionedMatchesUnpartitioned checks.

// partition is one enforcer over some rules of one subject.
type partition struct {
	enf *casbin.Enforcer
	// cond: a rule here has a condition, so a decision that asks this
	// partition depends on attributes and is not cached.
	cond bool
}

// subjectIndex holds the partitions of one subject.
type subjectIndex struct {
	byType   map[string]*partition // rules on an exact resource type
	patterns *partition            // rules whose type is a pattern, or nil
}

// index is the partitions of every subject, by subject key ("role:<name>",
// "user:<id>") and, for roles, also by name (so a decision needs no string
// concatenation to find them).
type index struct {
	bySubject map[string]*subjectIndex
	byRole    map[string]*subjectIndex
}

// buildIndex groups rules (in load order) into partitions.
func buildIndex(m model.Model, rules []Rule, fns map[string]govaluate.ExpressionFunction) (index, error) {
	type group struct {
		rules []Rule
		cond  bool
	}
	groups := map[string]map[string]*group{} // subject → type ("*" for patterns) → rules
	for _, r := range rules {
		typ := resourceType(r.Resource)
		if strings.Contains(typ, "*") {
			typ = "*"
		}
		bySub := groups[r.Subject]
		if bySub == nil {
			bySub = map[string]*group{}
			groups[r.Subject] = bySub
		}
		g := bySub[typ]
		if g == nil {
			g = &group{}
			bySub[typ] = g
		}
		g.rules = append(g.rules, r)
		g.cond = g.cond || r.Condition != ""
	}
	ix := index{bySubject: make(map[string]*subjectIndex, len(groups)), byRole: map[string]*subjectIndex{}}
	for sub, bySub := range groups {
		si := &subjectIndex{byType: make(map[string]*partition, len(bySub))}
		for typ, g := range bySub {
			enf, err := newEnforcer(m, g.rules, fns)
			if err != nil {
				return index{}, err
			}
			p := &partition{enf: enf, cond: g.cond}
			if typ == "*" {
				si.patterns = p
			} else {
				si.byType[typ] = p
			}
		}
		ix.bySubject[sub] = si
		if name, ok := strings.CutPrefix(sub, "role:"); ok {
			ix.byRole[name] = si
		}
	}
	return ix, nil
}

// resourceType is the type part of a rule's resource ("docs" of "docs:1").
func resourceType(resource string) string {
	typ, _, _ := strings.Cut(resource, ":")
	return typ
}

// partitionsFor returns the partitions that can hold a rule matching a
// request on resType by the subject subKey with effective roles eff.
func (ix index) partitionsFor(subKey string, eff []string, resType string) []*partition {
	out := make([]*partition, 0, 4)
	add := func(si *subjectIndex) {
		if p := si.byType[resType]; p != nil {
			out = append(out, p)
		}
		if si.patterns != nil {
			out = append(out, si.patterns)
		}
	}
	own := ix.bySubject[subKey]
	if own != nil {
		add(own)
	}
	for _, r := range eff {
		if si := ix.byRole[r]; si != nil && si != own {
			add(si)
		}
	}
	return out
}

// outcome merges the partitions' results by load-order index (-1: none).
type outcome struct {
	firstDeny, firstAllow, firstErr int
	err                             error
}

func newOutcome() outcome { return outcome{firstDeny: -1, firstAllow: -1, firstErr: -1} }

func earlier(a, b int) bool { return a >= 0 && (b < 0 || a < b) }

// enforce runs p and merges its result into o; ruleIdx maps Rule.key() to
// the load-order index.
func (p *partition) enforce(o *outcome, ruleIdx map[string]int, sub, obj map[string]any, act string, ctx map[string]any) {
	ok, explain, err := p.enf.EnforceEx(sub, obj, act, ctx)
	if err != nil {
		i := 0 // an error that names no rule fails the decision
		if ce := (*conditionError)(nil); errors.As(err, &ce) {
			if j, found := ruleIdx[ce.rule.key()]; found {
				i = j
			}
		}
		if earlier(i, o.firstErr) {
			o.firstErr, o.err = i, err
		}
		return
	}
	if len(explain) != 5 {
		return
	}
	i, found := ruleIdx[strings.Join(explain, "\x00")]
	switch {
	case !found:
	case ok && earlier(i, o.firstAllow):
		o.firstAllow = i
	case !ok && earlier(i, o.firstDeny):
		o.firstDeny = i
	}
}

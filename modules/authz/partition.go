package authz

import (
	"errors"
	"strings"
	"sync"

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
// the one model holding its rules in load order — a partition — built
// when a decision first asks it. A decision
// asks only the partitions of its subjects for its resource type: over
// 10,000 rules that is a handful of lines instead of all of them.
//
// Casbin's effect "some allow && !some deny" walks lines in load order and
// stops at the first matching deny or the first error, else reports the
// first matching allow. Merging the partitions' outcomes by load order (the
// earliest deny or error wins, else the earliest allow; see outcome) gives
// exactly the decision, deciding rule and error of one enforcer over all
// rules — which TestPartitionedMatchesUnpartitioned checks.

// partition is one enforcer over some rules of one subject. The enforcer
// is built when a decision first asks the partition: an enforcer costs
// ~4.5 KiB of heap whatever it holds, so building all of them at load made
// 10,000 rules on 1,000 roles over ten resource types take 50 MiB and
// 140 ms to load, most of it for partitions no request asks.
type partition struct {
	lines []int // the load-order index of each of its lines
	// cond: a rule here has a condition, so a decision that asks this
	// partition depends on attributes and is not cached.
	cond bool

	build func() (*casbin.Enforcer, error)
	once  sync.Once
	enf   *casbin.Enforcer
	err   error
}

// enforcer is the partition's enforcer, built on first use.
func (p *partition) enforcer() (*casbin.Enforcer, error) {
	p.once.Do(func() {
		p.enf, p.err = p.build()
		p.build = nil
	})
	return p.enf, p.err
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
func buildIndex(m model.Model, rules []Rule, fns map[string]govaluate.ExpressionFunction) index {
	type group struct {
		lines []int
		cond  bool
	}
	groups := map[string]map[string]*group{} // subject → type ("*" for patterns) → rules
	for i, r := range rules {
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
		g.lines = append(g.lines, i)
		g.cond = g.cond || r.Condition != ""
	}
	ix := index{bySubject: make(map[string]*subjectIndex, len(groups)), byRole: map[string]*subjectIndex{}}
	for sub, bySub := range groups {
		si := &subjectIndex{byType: make(map[string]*partition, len(bySub))}
		for typ, g := range bySub {
			p := &partition{lines: g.lines, cond: g.cond}
			p.build = func() (*casbin.Enforcer, error) {
				lines := make([]Rule, len(p.lines))
				for i, j := range p.lines {
					lines[i] = rules[j]
				}
				return newEnforcer(m, lines, fns)
			}
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
	return ix
}

// resourceType is the type part of a rule's resource ("docs" of "docs:1").
func resourceType(resource string) string {
	typ, _, _ := strings.Cut(resource, ":")
	return typ
}

// partitionsFor appends to out the partitions that can hold a rule
// matching a request on resType by the subject subKey with effective
// roles eff.
func (ix index) partitionsFor(out []*partition, subKey string, eff []string, resType string) []*partition {
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

// enforce asks p about req (r.sub, r.obj and r.ctx already built) and
// merges its result into o.
func (p *partition) enforce(o *outcome, s *snapshot, req request, sub, obj, ctx map[string]any) {
	enf, err := p.enforcer()
	if err != nil {
		// Cannot happen with rules that were checked when written; if it
		// does, the decision fails rather than skip the rules.
		o.firstErr, o.err = 0, err
		return
	}
	ok, explain, err := enf.EnforceEx(sub, obj, req.Action, ctx)
	if err != nil {
		if i := p.failedLine(s.rules, req, err); earlier(i, o.firstErr) {
			o.firstErr, o.err = i, err
		}
		return
	}
	i := p.lineOf(s.rules, explain)
	switch {
	case i < 0:
	case ok && earlier(i, o.firstAllow):
		o.firstAllow = i
	case !ok && earlier(i, o.firstDeny):
		o.firstDeny = i
	}
}

// lineOf is the load-order index of p's line explain (the deciding line
// EnforceEx reports: sub, obj, act, eft, cond), or -1 for none.
func (p *partition) lineOf(rules []Rule, explain []string) int {
	if len(explain) != 5 {
		return -1
	}
	for _, i := range p.lines {
		r := rules[i]
		if r.Resource == explain[1] && r.Action == explain[2] && r.Effect == explain[3] && r.Condition == explain[4] && r.Subject == explain[0] {
			return i
		}
	}
	return -1
}

// failedLine is the load-order index of the line at which p's enforcer
// failed with err. Casbin stops at the first line whose resource and
// action match and whose condition fails, and lines with the same
// condition fail alike for one request: so it is p's first line with
// err's condition whose resource and action match (the matcher's first
// two terms). An error that names no condition is put first of all, and
// fails the decision.
func (p *partition) failedLine(rules []Rule, req request, err error) int {
	var ce *conditionError
	if errors.As(err, &ce) {
		for _, i := range p.lines {
			r := rules[i]
			if r.Condition == ce.cond && resourceMatches(req.ResType, req.ResID, r.Resource) && actionMatches(req.Action, r.Action) {
				return i
			}
		}
	}
	return 0
}

package authz

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/casbin/casbin/v2/util"
	"github.com/casbin/govaluate"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// What a principal holds (its allows and denies, after inheritance, user
// rules and scopes) and what a role or rule grants, for covers.go.

// holder is what a principal holds, for covering.
type holder struct {
	all    bool     // system principal, or "*:*" "*" without denies
	scoped bool     // limited to scopes
	scopes []string //
	allows []Rule
	denies []deny // those that may apply to the principal
}

// deny is a deny rule; sure when it applies whatever the request
// (unconditional, or its condition reads only r.sub and is true for the
// subject). Its Condition stays as written, to compare with others.
type deny struct {
	Rule
	sure bool
}

// grantSet is what is granted: allow rules (the rights) and the deny rules
// that come with them (which limit what the grant conveys).
type grantSet struct {
	allows []Rule
	denies []deny
}

// subjectCondRe finds a call of g (the role graph) in a condition; such a
// condition is never decided statically.
var subjectCondRe = regexp.MustCompile(`\bg\s*\(`)

// subjectValue evaluates cond for the subject alone when it reads nothing
// but r.sub: known reports whether it could.
func subjectValue(cond string, sub map[string]any) (value, known bool) {
	if subjectCondRe.MatchString(cond) {
		return false, false
	}
	expr, err := govaluate.NewEvaluableExpressionWithFunctions(util.EscapeAssertion(cond), conditionFunctions(nil))
	if err != nil {
		return false, false
	}
	for _, v := range expr.Vars() {
		if v != "r_sub" && !strings.HasPrefix(v, "r_sub.") {
			return false, false
		}
	}
	v, err := expr.Eval(govaluate.MapParameters{"r_sub": sub})
	if err != nil {
		return false, false
	}
	b, ok := v.(bool)
	return b, ok
}

func subjectMap(userID string, eff []string) map[string]any {
	roles := make([]any, len(eff))
	for i, r := range eff {
		roles[i] = r
	}
	return map[string]any{"type": "user", "id": userID, "key": "user:" + userID, "roles": roles}
}

// userRules returns the rules that apply to user id whose direct roles are
// direct: those of "user:<id>" and of every effective role. A conditional
// rule whose condition reads only r.sub is kept as unconditional when true
// for the user and dropped when false; other conditional rules are kept as
// they are. (Denies keep their condition text, marked sure.)
func userRules(snap *snapshot, id string, direct []string) (allows []Rule, denies []deny) {
	eff := snap.effectiveRoles(direct)
	key := "user:" + id
	var sub map[string]any
	for _, r := range snap.rules {
		if !subjectMatches(key, eff, r.Subject) {
			continue
		}
		sure := r.Condition == ""
		if !sure {
			if sub == nil {
				sub = subjectMap(id, eff)
			}
			if v, known := subjectValue(r.Condition, sub); known {
				if !v {
					continue
				}
				sure = true
			}
		}
		if r.Effect == Deny {
			denies = append(denies, deny{Rule: r, sure: sure})
		} else {
			if sure {
				r.Condition = ""
			}
			allows = append(allows, r)
		}
	}
	return allows, denies
}

// directRoles reads a user's roles from identity, not through the cache:
// these checks guard grants and must not act on a revoked role. An unknown
// user has none.
func (s *Service) directRoles(ctx context.Context, userID string) ([]string, error) {
	roles, err := s.roles.RolesOf(ctx, userID)
	if err != nil {
		if s.opts.IsUnknownUser(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("authz: roles of %s: %w", userID, err)
	}
	return roles, nil
}

// holderOf collects what p holds.
func (s *Service) holderOf(ctx context.Context, snap *snapshot, p principal.Principal) (holder, error) {
	switch p.Kind {
	case principal.System:
		return holder{all: true}, nil
	case principal.Client:
		// Exactly its scopes (Can), on any id.
		return holder{scoped: true, scopes: p.Scopes, allows: []Rule{{Resource: "*:*", Action: "*", Effect: Allow}}}, nil
	case principal.User, principal.Service:
	default:
		return holder{}, nil
	}
	if p.ID == "" {
		return holder{}, nil
	}
	roles, err := s.directRoles(ctx, p.ID)
	if err != nil {
		return holder{}, err
	}
	h := holder{scoped: p.Scopes != nil, scopes: p.Scopes}
	h.allows, h.denies = userRules(snap, p.ID, roles)
	if !h.scoped && len(h.denies) == 0 {
		everything := span{typ: pat{wild: true}, id: pat{wild: true}, act: pat{wild: true}}
		for _, a := range h.allows {
			if a.Condition == "" && spanOf(a).contains(everything) {
				h.all = true
				break
			}
		}
	}
	return h, nil
}

// covers reports whether h holds right g, granted as part of gs.
func (h holder) covers(g Rule, gs grantSet) bool {
	if h.all {
		return true
	}
	sg := spanOf(g)
	if h.scoped && !scopesCover(h.scopes, sg) {
		return false
	}
	held := false
	for _, a := range h.allows {
		if (a.Condition == "" || a.Condition == g.Condition) && spanOf(a).contains(sg) {
			held = true
			break
		}
	}
	if !held {
		return false
	}
	for _, d := range h.denies {
		sd := spanOf(d.Rule)
		if sd.overlaps(sg) && !excused(d, sd.meet(sg), gs.denies) {
			return false
		}
	}
	return true
}

// excused: a deny that comes with the grant covers where p's deny d
// overlaps the right (the grant does not convey it there), and it binds
// surely or under the same condition as d.
func excused(d deny, where span, denies []deny) bool {
	for _, gd := range denies {
		if (gd.sure || gd.Condition == d.Condition) && spanOf(gd.Rule).contains(where) {
			return true
		}
	}
	return false
}

// uncovered returns the first allow of gs that h does not hold.
func (h holder) uncovered(gs grantSet) (Rule, bool) {
	for _, g := range gs.allows {
		if !h.covers(g, gs) {
			return g, true
		}
	}
	return Rule{}, false
}

// roleGrants is everything role grants: its rules and its ancestors'.
func roleGrants(snap *snapshot, role string) grantSet {
	var gs grantSet
	key, eff := "role:"+role, snap.effectiveRoles([]string{role})
	for _, r := range snap.rules {
		if !subjectMatches(key, eff, r.Subject) {
			continue
		}
		if r.Effect == Deny {
			gs.denies = append(gs.denies, deny{Rule: r, sure: r.Condition == ""})
		} else {
			gs.allows = append(gs.allows, r)
		}
	}
	return gs
}

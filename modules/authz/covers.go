package authz

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/casbin/casbin/v2/util"
	"github.com/casbin/govaluate"

	"github.com/gatehouse/gatehouse/internal/principal"
)

// No escalation (CONTRACT "Admin REST API"), as Kubernetes RBAC does it: a
// principal may grant a right — give a role, make a role inherit another,
// create a policy — only when it already holds that right, and may act on
// another user's credentials or status only when it holds every right that
// user holds. The questions are answered on effective rights (role
// inheritance and "user:<id>" rules included), never on role names.
//
// A right is an allow rule's (resource pattern, action). p covers it when p
// would be allowed that action on that resource for every value the
// patterns match — statically, from the loaded rules, without a request:
//
//   - some allow rule of p contains the right: its type and id patterns
//     match every type and id the right's do ("users:*" needs "users:*",
//     "use*:*" or "*:*", never "users:42"), and its action is the same or
//     "*" (an action "*" right needs "*");
//   - no deny rule of p overlaps the right (p's own denies count against
//     p), unless what is granted carries a deny over that overlap too, so
//     the grant does not convey it there (see excused);
//   - a scoped credential (API key or access token with scopes) also needs
//     a scope allowing the right on every type it names (as Can intersects
//     scopes with the owner's rights); a client has exactly its scopes;
//   - the system principal (CLI, start-up work) covers everything, and so
//     does a user whose rules allow "*:*" "*" with no deny of their own.
//
// Conditions. Granting a conditional allow needs p to hold the right
// unconditionally, or through an allow rule with the identical condition
// text (the grantee is then held to the same condition p is); p's own
// conditional allows never cover an unconditional right. A conditional deny
// of p counts against p unless its condition reads only r.sub and is false
// for p (the built-in "!('admin' IN r.sub.roles)" on user-admin is false for
// an admin); a deny whose condition cannot be decided without a request
// counts. A granted deny excuses p's overlapping deny when it is
// unconditional, or has the identical condition: the grantee is then bound
// by the same restriction as p — that is what lets a user-admin give
// user-admin to someone or manage a fellow user-admin. (A condition reading
// subject attributes could, in principle, bind the grantee less than p; an
// admin who writes such a deny should keep that in mind.)
//
// A union of several narrower allows is not taken to cover a broader right
// ("users:a*" and "users:b*" do not cover "users:*"): patterns are
// prefixes, so no finite union of them covers an open-ended one anyway.
//
// These checks read the whole rule list once per call, which is fine for
// grant operations (they are rare); decisions (Can) never pay for them.

// ErrEscalation: the principal tried to grant, or act on, rights it does not
// hold. The API answers 403.
var ErrEscalation = errors.New("authz: escalation")

// EscalationError names what the principal may not grant.
type EscalationError struct {
	// What is granted: "rule role:ops policies:* * allow", "role admin" or
	// "removing deny rule …".
	What string
}

func (e *EscalationError) Error() string {
	return "you may not grant " + e.What + ": it carries rights you do not hold"
}

func (e *EscalationError) Unwrap() error { return ErrEscalation }

// pat is a keyMatch pattern of one part (type, id or action): a value
// matches when it equals prefix (exact) or starts with it (wild: the
// pattern had a "*"; keyMatch ignores what follows the first "*").
type pat struct {
	prefix string
	wild   bool
}

func parsePat(s string) pat {
	if i := strings.IndexByte(s, '*'); i >= 0 {
		return pat{prefix: s[:i], wild: true}
	}
	return pat{prefix: s}
}

// contains: every value b matches, a matches too.
func (a pat) contains(b pat) bool {
	if !a.wild {
		return !b.wild && a.prefix == b.prefix
	}
	return strings.HasPrefix(b.prefix, a.prefix)
}

// overlaps: some value matches both.
func (a pat) overlaps(b pat) bool {
	switch {
	case !a.wild && !b.wild:
		return a.prefix == b.prefix
	case !a.wild:
		return strings.HasPrefix(a.prefix, b.prefix)
	case !b.wild:
		return strings.HasPrefix(b.prefix, a.prefix)
	}
	return strings.HasPrefix(a.prefix, b.prefix) || strings.HasPrefix(b.prefix, a.prefix)
}

// meet is the intersection of two overlapping patterns: the narrower one.
func (a pat) meet(b pat) pat {
	if a.contains(b) {
		return b
	}
	return a
}

// span is the set of (type, id, action) a rule applies to.
type span struct{ typ, id, act pat }

func spanOf(r Rule) span {
	typ, id, _ := strings.Cut(r.Resource, ":")
	act := pat{prefix: r.Action}
	if r.Action == "*" {
		act = pat{wild: true}
	}
	return span{typ: parsePat(typ), id: parsePat(id), act: act}
}

func (a span) contains(b span) bool {
	return a.typ.contains(b.typ) && a.id.contains(b.id) && a.act.contains(b.act)
}

func (a span) overlaps(b span) bool {
	return a.typ.overlaps(b.typ) && a.id.overlaps(b.id) && a.act.overlaps(b.act)
}

func (a span) meet(b span) span {
	return span{typ: a.typ.meet(b.typ), id: a.id.meet(b.id), act: a.act.meet(b.act)}
}

// scopesCover reports whether scopes allow every (type, action) of s, as
// ScopesAllow decides for one request.
func scopesCover(scopes []string, s span) bool {
	for _, sc := range scopes {
		t, a, ok := strings.Cut(sc, ":")
		if !ok {
			continue
		}
		if (t == "*" || (!s.typ.wild && t == s.typ.prefix)) && (a == "*" || (!s.act.wild && a == s.act.prefix)) {
			return true
		}
	}
	return false
}

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

// CoversRole reports whether p holds every right role grants, its inherited
// parents' rules included. A role without rules (or an unknown one) grants
// nothing, so it is covered.
func (s *Service) CoversRole(ctx context.Context, p principal.Principal, role string) (bool, error) {
	snap := s.eng.snap.Load()
	h, err := s.holderOf(ctx, snap, p)
	if err != nil {
		return false, err
	}
	_, missing := h.uncovered(roleGrants(snap, role))
	return !missing, nil
}

// CoversRule reports whether p holds the right rule grants. A deny rule only
// takes rights away: it is always covered (removing one is not; see
// CoversRemoval).
func (s *Service) CoversRule(ctx context.Context, p principal.Principal, rule Rule) (bool, error) {
	rule = rule.Normalize()
	if rule.Effect != Allow {
		return true, nil
	}
	snap := s.eng.snap.Load()
	h, err := s.holderOf(ctx, snap, p)
	if err != nil {
		return false, err
	}
	return h.covers(rule, grantSet{}), nil
}

// CoversRemoval reports whether p may remove rule: removing an allow takes
// rights away (always covered); removing a deny gives back the rights it
// withheld, so p must hold them, as if the deny's span were an allow.
func (s *Service) CoversRemoval(ctx context.Context, p principal.Principal, rule Rule) (bool, error) {
	if rule.Effect != Deny {
		return true, nil
	}
	snap := s.eng.snap.Load()
	h, err := s.holderOf(ctx, snap, p)
	if err != nil {
		return false, err
	}
	return h.covers(asRight(rule), grantSet{}), nil
}

// asRight is the right a deny withholds.
func asRight(d Rule) Rule {
	d.Effect, d.Condition = Allow, ""
	return d
}

// CoversUser reports whether p holds every right user userID holds: those
// of their roles (inheritance included) and of "user:<id>" rules. p's own
// denies that the user shares (same span or wider, same condition) do not
// count against p. An unknown user holds nothing.
func (s *Service) CoversUser(ctx context.Context, p principal.Principal, userID string) (bool, error) {
	snap := s.eng.snap.Load()
	h, err := s.holderOf(ctx, snap, p)
	if err != nil {
		return false, err
	}
	if h.all {
		return true, nil
	}
	roles, err := s.directRoles(ctx, userID)
	if err != nil {
		return false, err
	}
	var gs grantSet
	gs.allows, gs.denies = userRules(snap, userID, roles)
	_, missing := h.uncovered(gs)
	return !missing, nil
}

// checkGrants answers an EscalationError unless p holds every right that
// storing rules (allows not already stored), adding edges (not already
// stored) and removing the stored deny rules in removed would grant.
// Invalid rules and edges are skipped: the service refuses them anyway.
func (s *Service) checkGrants(ctx context.Context, p principal.Principal, rules []Rule, edges []RoleParent, removed []Rule) error {
	snap := s.eng.snap.Load()
	h, err := s.holderOf(ctx, snap, p)
	if err != nil {
		return err
	}
	if h.all {
		return nil
	}
	existing, err := s.st.allPolicies(ctx)
	if err != nil {
		return err
	}
	stored := make(map[string]bool, len(existing))
	for _, r := range existing {
		stored[r.toPolicy().Rule().key()] = true
	}
	for _, r := range rules {
		r = r.Normalize()
		if r.Effect != Allow || r.Validate() != nil || stored[r.key()] {
			continue
		}
		if !h.covers(r, grantSet{}) {
			return &EscalationError{What: "rule " + describe(r)}
		}
	}
	if len(edges) > 0 {
		prows, err := s.st.allParents(ctx)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, e := range prows {
			have[e.Role+"\x00"+e.Parent] = true
		}
		for _, e := range edges {
			if have[e.Role+"\x00"+e.Parent] || e.Validate() != nil {
				continue
			}
			if r, missing := h.uncovered(roleGrants(snap, e.Parent)); missing {
				return &EscalationError{What: "role " + e.Parent + " (its rule " + describe(r) + ")"}
			}
		}
	}
	for _, d := range removed {
		if d.Effect == Deny && !h.covers(asRight(d), grantSet{}) {
			return &EscalationError{What: "what removing the deny rule " + describe(d) + " gives back"}
		}
	}
	return nil
}

// removedDenies are the stored deny rules that are not built in and not in
// keep (a replacement set).
func (s *Service) removedDenies(ctx context.Context, keep []Rule) ([]Rule, error) {
	existing, err := s.st.allPolicies(ctx)
	if err != nil {
		return nil, err
	}
	kept := make(map[string]bool, len(keep))
	for _, r := range keep {
		kept[r.Normalize().key()] = true
	}
	var out []Rule
	for _, row := range existing {
		r := row.toPolicy().Rule()
		if !row.BuiltIn && r.Effect == Deny && !kept[r.key()] {
			out = append(out, r)
		}
	}
	return out, nil
}

func describe(r Rule) string {
	s := r.Subject + " " + r.Resource + " " + r.Action + " " + r.Effect
	if r.Condition != "" {
		s += " if " + clip(r.Condition)
	}
	return strings.TrimSpace(s)
}

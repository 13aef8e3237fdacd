package authz

import (
	"context"
	"errors"
	"strings"

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

// CoversRoleRemoval reports whether p may take role away from a user:
// that takes the role's allows away (always covered) but gives back what
// its deny rules (its ancestors' included) withheld, so p must hold those
// rights, as for CoversRemoval.
func (s *Service) CoversRoleRemoval(ctx context.Context, p principal.Principal, role string) (bool, error) {
	snap := s.eng.snap.Load()
	gs := roleGrants(snap, role)
	if len(gs.denies) == 0 {
		return true, nil
	}
	h, err := s.holderOf(ctx, snap, p)
	if err != nil {
		return false, err
	}
	for _, d := range gs.denies {
		if !h.covers(asRight(d.Rule), grantSet{}) {
			return false, nil
		}
	}
	return true, nil
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

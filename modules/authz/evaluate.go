package authz

import (
	"context"
	"errors"
	"sort"
	"strings"
)

// Entity is an AuthZEN subject or resource: a type, an id and free-form
// properties that conditions read as r.sub.<name> / r.obj.<name>.
type Entity struct {
	Type       string
	ID         string
	Properties map[string]any
}

// EvalRequest is one access evaluation (AuthZEN Authorization API 1.0 §6).
type EvalRequest struct {
	Subject  Entity // type "user" (roles from identity) or "role"
	Resource Entity
	Action   string
	Context  map[string]any // r.ctx.<name>
}

// Evaluate decides an AuthZEN request by the policies alone (no
// self-service or scope rules: those are Gatehouse's own API semantics).
// An unknown user or an unsupported subject type is denied with a reason;
// a condition that fails to evaluate is ErrCondition.
func (s *Service) Evaluate(ctx context.Context, req EvalRequest) (Decision, error) {
	sub := subject{Type: req.Subject.Type, ID: req.Subject.ID, Props: req.Subject.Properties}
	switch req.Subject.Type {
	case "user":
		roles, err := s.rolesOf(ctx, req.Subject.ID)
		if errors.Is(err, ErrUnknownSubject) {
			return Decision{Reason: "unknown subject"}, nil
		}
		if err != nil {
			return Decision{}, err
		}
		sub.Roles = roles
	case "role":
	default:
		return Decision{Reason: "unsupported subject type " + clip(req.Subject.Type) + " (use \"user\" or \"role\")"}, nil
	}
	return s.eng.decide(request{
		Sub: sub, ResType: req.Resource.Type, ResID: req.Resource.ID, ResProp: req.Resource.Properties,
		Action: req.Action, Ctx: req.Context,
	}, s.opts.Now())
}

// PermissionsFor lists what the user may do, as "<resource>#<action>"
// pairs such as "users:*#read" or "*:*#*", sorted. It is meant for an
// optional "permissions" claim: each pair comes from an unconditional allow
// rule that applies to the user (directly or through a role, inherited
// roles included) and is kept only if the pattern itself is allowed — a
// deny on exactly that pattern removes it, while narrower denies (e.g.
// "roles:admin#assign" under "roles:*#*") and conditional rules are not
// reflected. Self-service rights are not listed.
func (s *Service) PermissionsFor(ctx context.Context, userID string) ([]string, error) {
	roles, err := s.rolesOf(ctx, userID)
	if errors.Is(err, ErrUnknownSubject) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	e := s.eng
	snap := e.snap.Load()
	eff := snap.effectiveRoles(roles)
	key := "user:" + userID
	var cands []Rule
	for _, r := range snap.rules {
		if r.Effect == Allow && r.Condition == "" && subjectMatches(key, eff, r.Subject) {
			cands = append(cands, r)
		}
	}

	seen := map[string]bool{}
	out := []string{}
	for _, r := range cands {
		pair := r.Resource + "#" + r.Action
		if seen[pair] {
			continue
		}
		seen[pair] = true
		typ, id, _ := strings.Cut(r.Resource, ":")
		d, err := e.decide(request{Sub: subject{Type: "user", ID: userID, Roles: roles}, ResType: typ, ResID: id, Action: r.Action}, s.opts.Now())
		if err != nil {
			// a conditional deny that cannot be evaluated without
			// attributes: leave the pair out rather than over-grant
			if errors.Is(err, ErrCondition) {
				continue
			}
			return nil, err
		}
		if d.Allowed {
			out = append(out, pair)
		}
	}
	sort.Strings(out)
	return out, nil
}

// standardActions are Gatehouse's own action names; SearchActions offers
// them (with every action a rule names) as candidates for "*" rules.
var standardActions = []string{"read", "create", "update", "delete", "assign", "evaluate", "rotate"}

// SearchActions answers AuthZEN's Action Search: the actions the subject
// may perform on the resource. Candidates are the action names that appear
// in any rule plus Gatehouse's standard actions (a "*" rule cannot list
// names no rule mentions); each is decided like an evaluation, so deny
// rules and conditions apply. The result is sorted.
func (s *Service) SearchActions(ctx context.Context, req EvalRequest) ([]string, error) {
	cands := map[string]bool{}
	for _, a := range standardActions {
		cands[a] = true
	}
	for _, r := range s.eng.snap.Load().rules {
		if r.Action != "*" {
			cands[r.Action] = true
		}
	}
	names := make([]string, 0, len(cands))
	for a := range cands {
		names = append(names, a)
	}
	sort.Strings(names)
	out := []string{}
	for _, a := range names {
		req.Action = a
		d, err := s.Evaluate(ctx, req)
		if err != nil {
			return nil, err
		}
		if d.Allowed {
			out = append(out, a)
		}
	}
	return out, nil
}

package authz

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/govaluate"
)

// engine owns the process's one Casbin enforcer and what is derived from
// the same load (rule ids, the conditional rules, the decision cache). mu
// guards all of it: decisions hold the read lock, a reload the write lock
// for the time it takes to swap the model in (the tables are read before).
type engine struct {
	mu      sync.RWMutex
	enf     *casbin.Enforcer
	adapter *adapter
	version int64
	ruleIDs map[string]string // Rule.key() → policy id
	// conditional are the loaded rules with a condition: a decision is
	// cacheable only when none of them could apply (subject, resource and
	// action match), since only conditions read attributes and time.
	conditional []Rule
	rules       []Rule // every loaded rule, for PermissionsFor
	implied     sync.Map
	cache       decisionCache
}

// Decision is the outcome of one evaluation.
type Decision struct {
	Allowed bool
	// RuleID is the deciding rule: the first matching deny when denied by
	// a rule, the first matching allow when allowed; empty when no rule
	// matched or the decision was made outside the policies (system
	// principal, self-service, client scopes).
	RuleID string
	Reason string
}

// subject of a decision: a user (roles from identity) or a role.
type subject struct {
	Type  string // "user" or "role"
	ID    string
	Roles []string // direct roles (users)
	Props map[string]any
}

func (s subject) key() string { return s.Type + ":" + s.ID }

// request is one decision request in the model's terms.
type request struct {
	Sub     subject
	ResType string
	ResID   string
	Owner   string
	ResProp map[string]any
	Action  string
	Ctx     map[string]any
}

func newEngine(st store) (*engine, error) {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	e := &engine{adapter: &adapter{store: st}}
	enf, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	enf.SetAdapter(e.adapter)
	enf.EnableAutoSave(false)
	for name, fn := range modelFunctions() {
		enf.AddFunction(name, fn)
	}
	e.enf = enf
	e.cache.reset()
	return e, nil
}

// modelFunctions are the functions the matcher calls.
func modelFunctions() map[string]govaluate.ExpressionFunction {
	return map[string]govaluate.ExpressionFunction{
		"subjectMatch":  subjectMatchFunc,
		"resourceMatch": resourceMatchFunc,
		"actionMatch":   actionMatchFunc,
	}
}

// conditionFunctions are the functions a condition may call: Casbin's
// built-ins (keyMatch, regexMatch, ipMatch, globMatch, ...) and ours.
func conditionFunctions() map[string]govaluate.ExpressionFunction {
	fm := model.LoadFunctionMap()
	fns := fm.GetFunctions()
	for k, v := range modelFunctions() {
		fns[k] = v
	}
	fns["g"] = func(...any) (any, error) { return false, nil } // replaced at enforce time
	return fns
}

// load swaps a freshly read snapshot into the enforcer.
func (e *engine) load(version int64, rows *snapshotRows) error {
	ids := make(map[string]string, len(rows.policies))
	var cond []Rule
	rules := make([]Rule, 0, len(rows.policies))
	for _, r := range rows.policies {
		p := r.toPolicy().Rule()
		ids[p.key()] = r.ID
		rules = append(rules, p)
		if p.Condition != "" {
			cond = append(cond, p)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.adapter.pending = rows
	if err := e.enf.LoadPolicy(); err != nil {
		return fmt.Errorf("authz: load policy: %w", err)
	}
	e.version = version
	e.ruleIDs = ids
	e.conditional = cond
	e.rules = rules
	e.implied = sync.Map{}
	e.cache.reset()
	return nil
}

// effectiveRoles expands direct role names through role→role inheritance
// (g). Call with mu held.
func (e *engine) effectiveRoles(direct []string) ([]string, error) {
	seen := make(map[string]struct{}, len(direct)*2)
	for _, r := range direct {
		seen[r] = struct{}{}
		var implied []string
		if v, ok := e.implied.Load(r); ok {
			implied = v.([]string)
		} else {
			got, err := e.enf.GetImplicitRolesForUser("role:" + r)
			if err != nil {
				return nil, fmt.Errorf("authz: expand role %s: %w", r, err)
			}
			for _, g := range got {
				implied = append(implied, strings.TrimPrefix(g, "role:"))
			}
			e.implied.Store(r, implied)
		}
		for _, g := range implied {
			seen[g] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out, nil
}

// decide evaluates req against the loaded policies.
func (e *engine) decide(req request, now time.Time) (Decision, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(e.rules) == 0 {
		// Casbin refuses eval() without rules; nothing can be allowed.
		return Decision{Reason: "no rules are loaded"}, nil
	}

	roles := req.Sub.Roles
	if req.Sub.Type == "role" {
		roles = []string{req.Sub.ID}
	}
	eff, err := e.effectiveRoles(roles)
	if err != nil {
		return Decision{}, err
	}
	subKey := req.Sub.key()
	resource := req.ResType + ":" + req.ResID

	cacheKey := ""
	if !e.conditionMayApply(subKey, eff, req.ResType, req.ResID, req.Action) {
		cacheKey = subKey + "\x00" + strings.Join(eff, ",") + "\x00" + resource + "\x00" + req.Action
		if d, ok := e.cache.get(cacheKey); ok {
			return d, nil
		}
	}

	rolesAny := make([]any, len(eff))
	for i, r := range eff {
		rolesAny[i] = r
	}
	sub := make(map[string]any, len(req.Sub.Props)+4)
	for k, v := range req.Sub.Props {
		sub[k] = v
	}
	sub["type"], sub["id"], sub["key"], sub["roles"] = req.Sub.Type, req.Sub.ID, subKey, rolesAny

	obj := make(map[string]any, len(req.ResProp)+4)
	for k, v := range req.ResProp {
		obj[k] = v
	}
	obj["type"], obj["id"], obj["key"], obj["owner"] = req.ResType, req.ResID, resource, req.Owner

	ctx := make(map[string]any, len(req.Ctx)+3)
	now = now.UTC()
	ctx["time"] = now.Format(time.RFC3339)
	ctx["hour"] = float64(now.Hour())
	ctx["weekday"] = float64(now.Weekday())
	for k, v := range req.Ctx {
		ctx[k] = v
	}

	ok, explain, err := e.enf.EnforceEx(sub, obj, req.Action, ctx)
	if err != nil {
		return Decision{}, fmt.Errorf("%w: %v", ErrCondition, err)
	}
	d := Decision{Allowed: ok}
	if len(explain) == 5 {
		d.RuleID = e.ruleIDs[strings.Join(explain, "\x00")]
	}
	switch {
	case ok:
		d.Reason = "allowed by rule " + d.RuleID
	case d.RuleID != "":
		d.Reason = "denied by rule " + d.RuleID
	default:
		d.Reason = "no rule allows this action"
	}
	if cacheKey != "" {
		e.cache.put(cacheKey, d)
	}
	return d, nil
}

// conditionMayApply reports whether a conditional rule matches the
// request's subject, resource and action (so its condition would run).
func (e *engine) conditionMayApply(subKey string, roles []string, resType, resID, action string) bool {
	for _, r := range e.conditional {
		if subjectMatches(subKey, roles, r.Subject) && resourceMatches(resType, resID, r.Resource) && actionMatches(action, r.Action) {
			return true
		}
	}
	return false
}

// reload reads the version and the tables, then swaps them in. The version
// is read first: a change committed in between is loaded now and loaded
// again at the next poll, never missed.
func (e *engine) reload(ctx context.Context, st store) (int64, error) {
	v, err := st.version(ctx)
	if err != nil {
		return 0, err
	}
	rows, err := e.adapter.fetch(ctx)
	if err != nil {
		return 0, err
	}
	return v, e.load(v, rows)
}

func (e *engine) loadedVersion() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.version
}

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

// engine owns what is derived from one load of the tables: the Casbin
// enforcers (one per subject partition, see partition.go, plus one holding
// role→role inheritance), rule ids, the loaded rules and the decision
// cache. mu guards all of it: decisions hold the read lock; a reload builds
// the new enforcers without it and takes the write lock only to swap them
// in, so a decision never sees a half-built state.
type engine struct {
	mu      sync.RWMutex
	enf     *casbin.Enforcer // role→role inheritance (g) only
	adapter *adapter
	version int64
	ruleIdx map[string]int // Rule.key() → load-order index
	ids     []string       // load-order index → policy id
	// parts are the rules grouped by subject ("role:<name>", "user:<id>"),
	// each group in its own Casbin enforcers.
	parts     map[string]*subjectRules
	roleParts map[string]*subjectRules // parts["role:<name>"] by <name>
	rules     []Rule                   // every loaded rule, in load order
	implied   sync.Map
	cache     decisionCache
	// noCache turns the decision cache off (benchmarks of the uncached path).
	noCache bool
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
	e := &engine{adapter: &adapter{store: st}}
	enf, err := newRoleEnforcer(nil)
	if err != nil {
		return nil, err
	}
	e.enf = enf
	e.cache.reset()
	return e, nil
}

// newRoleEnforcer returns an enforcer of the model holding only the
// role→role inheritance edges (g); it answers effectiveRoles.
func newRoleEnforcer(parents []parentRow) (*casbin.Enforcer, error) {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	enf, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	enf.SetAdapter(&adapter{pending: &snapshotRows{parents: parents}})
	enf.EnableAutoSave(false)
	for name, fn := range modelFunctions() {
		enf.AddFunction(name, fn)
	}
	if err := enf.LoadPolicy(); err != nil {
		return nil, fmt.Errorf("authz: load role parents: %w", err)
	}
	return enf, nil
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

// load builds enforcers from a freshly read snapshot and swaps them in.
func (e *engine) load(version int64, rows *snapshotRows) error {
	idx := make(map[string]int, len(rows.policies))
	byIdx := make([]string, 0, len(rows.policies))
	rules := make([]Rule, 0, len(rows.policies))
	for _, r := range rows.policies {
		p := r.toPolicy().Rule()
		idx[p.key()] = len(rules)
		byIdx = append(byIdx, r.ID)
		rules = append(rules, p)
	}
	parents := make([][]string, 0, len(rows.parents))
	for _, r := range rows.parents {
		parents = append(parents, []string{"role:" + r.Role, "role:" + r.Parent})
	}
	roleEnf, err := newRoleEnforcer(rows.parents)
	if err != nil {
		return err
	}
	parts, err := buildPartitions(rules, parents)
	if err != nil {
		return err
	}
	roleParts := make(map[string]*subjectRules, len(parts))
	for k, sr := range parts {
		if name, ok := strings.CutPrefix(k, "role:"); ok {
			roleParts[name] = sr
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.enf = roleEnf
	e.version = version
	e.ruleIdx = idx
	e.ids = byIdx
	e.parts = parts
	e.roleParts = roleParts
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
	subjects := e.subjectsOf(subKey, eff)

	cacheKey := ""
	if !e.noCache && !e.conditionMayApply(subjects, subKey, eff, req.ResType, req.ResID, req.Action) {
		cacheKey = subKey + "\x00" + strings.Join(eff, ",") + "\x00" + req.ResType + ":" + req.ResID + "\x00" + req.Action
		if d, ok := e.cache.get(cacheKey); ok {
			return d, nil
		}
	}

	// Only the rules of the subjects that apply can match; merge their
	// enforcers' outcomes by load order (see partition.go). r.sub and
	// r.ctx are built only when a conditional rule may need them.
	var obj, sub, ctx map[string]any
	o := newOutcome()
	run := func(p *partition) {
		if p == nil || !p.mayMatch(req.ResType, req.ResID, req.Action) {
			return
		}
		if obj == nil {
			obj = objectValues(req)
		}
		if !p.cond {
			p.enforce(&o, e.ruleIdx, noValues, obj, req.Action, noValues)
			return
		}
		if sub == nil {
			sub, ctx = attributeValues(req, eff, now)
		}
		p.enforce(&o, e.ruleIdx, sub, obj, req.Action, ctx)
	}
	for _, sr := range subjects {
		for _, p := range sr.parts {
			run(p)
		}
		run(sr.bucket(req.ResType))
	}
	if o.firstErr >= 0 && !earlier(o.firstDeny, o.firstErr) {
		// Casbin stops at the first matching deny; an error before it
		// (or with no deny at all) fails the whole decision.
		return Decision{}, fmt.Errorf("%w: %v", ErrCondition, o.err)
	}
	var d Decision
	switch {
	case o.firstDeny >= 0:
		d.RuleID = e.ids[o.firstDeny]
		d.Reason = "denied by rule " + d.RuleID
	case o.firstAllow >= 0:
		d.Allowed = true
		d.RuleID = e.ids[o.firstAllow]
		d.Reason = "allowed by rule " + d.RuleID
	default:
		d.Reason = "no rule allows this action"
	}
	if cacheKey != "" {
		e.cache.put(cacheKey, d)
	}
	return d, nil
}

// requestValues builds the matcher's r.sub, r.obj and r.ctx for req whose
// subject has the effective roles eff.
func requestValues(req request, eff []string, now time.Time) (sub, obj, ctx map[string]any) {
	sub, ctx = attributeValues(req, eff, now)
	return sub, objectValues(req), ctx
}

// objectValues builds r.obj.
func objectValues(req request) map[string]any {
	obj := make(map[string]any, len(req.ResProp)+4)
	for k, v := range req.ResProp {
		obj[k] = v
	}
	obj["type"], obj["id"], obj["key"], obj["owner"] = req.ResType, req.ResID, req.ResType+":"+req.ResID, req.Owner
	return obj
}

// attributeValues builds r.sub and r.ctx, which only conditions read.
func attributeValues(req request, eff []string, now time.Time) (sub, ctx map[string]any) {
	rolesAny := make([]any, len(eff))
	for i, r := range eff {
		rolesAny[i] = r
	}
	sub = make(map[string]any, len(req.Sub.Props)+4)
	for k, v := range req.Sub.Props {
		sub[k] = v
	}
	sub["type"], sub["id"], sub["key"], sub["roles"] = req.Sub.Type, req.Sub.ID, req.Sub.key(), rolesAny

	ctx = make(map[string]any, len(req.Ctx)+3)
	now = now.UTC()
	ctx["time"] = now.Format(time.RFC3339)
	ctx["hour"] = float64(now.Hour())
	ctx["weekday"] = float64(now.Weekday())
	for k, v := range req.Ctx {
		ctx[k] = v
	}
	return sub, ctx
}

// noValues stands for r.sub and r.ctx in the enforcers of unconditional
// rules, whose matcher reads neither. Never written.
var noValues = map[string]any{}

// subjectsOf returns the rules of the subjects that apply to a request
// subject with effective roles eff: its own key ("user:<id>" or
// "role:<name>") and "role:<r>" for each effective role. Call with mu held.
func (e *engine) subjectsOf(subKey string, eff []string) []*subjectRules {
	out := make([]*subjectRules, 0, len(eff)+1)
	own := e.parts[subKey]
	if own != nil {
		out = append(out, own)
	}
	for _, r := range eff {
		if sr := e.roleParts[r]; sr != nil && sr != own {
			out = append(out, sr)
		}
	}
	return out
}

// conditionMayApply reports whether a conditional rule of one of the
// subjects matches the request's subject, resource and action (so its
// condition would run).
func (e *engine) conditionMayApply(subjects []*subjectRules, subKey string, roles []string, resType, resID, action string) bool {
	for _, sr := range subjects {
		for _, r := range sr.conditional {
			if subjectMatches(subKey, roles, r.Subject) && resourceMatches(resType, resID, r.Resource) && actionMatches(action, r.Action) {
				return true
			}
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

package authz

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2/model"

	"github.com/gatehouse/gatehouse/internal/cache"
)

// engine decides against the policies of the last load. Everything derived
// from one load is an immutable snapshot: a decision reads one snapshot,
// a reload builds the next one (outside any lock) and swaps it in, so a
// decision never sees a half-built state.
type engine struct {
	adapter *adapter
	snap    atomic.Pointer[snapshot]
	// noCache turns the decision cache off (benchmarks of the uncached path).
	noCache bool
}

// snapshot is one load of the tables.
type snapshot struct {
	version int64
	rules   []Rule   // every rule, in load order
	ids     []string // load-order index → policy id
	// roles maps a role that inherits others to itself and every role it
	// inherits, transitively (sorted): see inheritance.
	roles     map[string][]string
	index     index
	decisions *cache.TTL[[sha256.Size]byte, Decision] // attribute-independent decisions, kept for the snapshot's life
}

// maxCachedDecisions bounds a snapshot's decision cache. An entry is a
// 32-byte hash of the question and the Decision, ~190 bytes with the map's
// overhead (heap profile after load.sh's AuthZEN run: 9.4 MB at 50,000),
// so a full cache is ~4 MiB whatever the subjects' roles. Questions that
// name a new resource each time fill it with answers asked once; a full
// cache starts over, and a dropped answer costs one evaluation (~25 µs).
const maxCachedDecisions = 20_000

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
	return e, e.load(0, &snapshotRows{})
}

// load builds a snapshot from rows read from the tables and swaps it in.
func (e *engine) load(version int64, rows *snapshotRows) error {
	s := &snapshot{version: version,
		decisions: cache.New[[sha256.Size]byte, Decision](0, maxCachedDecisions, nil)}
	for _, r := range rows.policies {
		rule := r.toPolicy().Rule()
		s.ids = append(s.ids, r.ID)
		s.rules = append(s.rules, rule)
	}
	edges := make([]RoleParent, len(rows.parents))
	for i, r := range rows.parents {
		edges[i] = RoleParent{Role: r.Role, Parent: r.Parent}
	}
	s.roles = inheritance(edges)
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return fmt.Errorf("authz: model: %w", err)
	}
	s.index = buildIndex(m, s.rules, matcherFunctions(compileConditions(s.rules, roleLink(s.roles))))
	e.snap.Store(s)
	return nil
}

// effectiveRoles expands direct role names through role inheritance.
func (s *snapshot) effectiveRoles(direct []string) []string {
	out := make([]string, 0, len(direct)+4)
	for _, r := range direct {
		if implied, ok := s.roles[r]; ok {
			out = append(out, implied...)
		} else {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// decide evaluates req against the loaded policies.
func (e *engine) decide(req request, now time.Time) (Decision, error) {
	s := e.snap.Load()
	if len(s.rules) == 0 {
		return Decision{Reason: "no rules are loaded"}, nil
	}
	direct := req.Sub.Roles
	if req.Sub.Type == "role" {
		direct = []string{req.Sub.ID}
	}
	eff := s.effectiveRoles(direct)
	subKey := req.Sub.key()
	var buf [8]*partition
	parts := s.index.partitionsFor(buf[:0], subKey, eff, req.ResType)
	// A partition with a condition makes the decision depend on
	// attributes: it is neither cached nor decided without r.ctx.
	attrs := slices.ContainsFunc(parts, func(p *partition) bool { return p.cond })

	// The question, hashed: the effective roles are part of it (a user's
	// roles change without a new snapshot) and may be many.
	cached := !e.noCache && !attrs
	var cacheKey [sha256.Size]byte
	if cached {
		cacheKey = sha256.Sum256([]byte(subKey + "\x00" + strings.Join(eff, ",") + "\x00" + req.ResType + ":" + req.ResID + "\x00" + req.Action))
		if d, ok := s.decisions.Get(cacheKey); ok {
			return d, nil
		}
	}
	o := newOutcome()
	if len(parts) > 0 {
		sub, obj, ctx := requestValues(req, eff, now, attrs)
		for _, p := range parts {
			p.enforce(&o, s, req, sub, obj, ctx)
		}
	}
	if o.firstErr >= 0 && !earlier(o.firstDeny, o.firstErr) {
		// One enforcer over all rules stops at the first matching deny; an
		// error before it (or with no deny at all) fails the decision.
		return Decision{}, fmt.Errorf("%w: %v", ErrCondition, o.err)
	}
	var d Decision
	switch {
	case o.firstDeny >= 0:
		d.RuleID = s.ids[o.firstDeny]
		d.Reason = "denied by rule " + d.RuleID
	case o.firstAllow >= 0:
		d.Allowed = true
		d.RuleID = s.ids[o.firstAllow]
		d.Reason = "allowed by rule " + d.RuleID
	default:
		d.Reason = "no rule allows this action"
	}
	if cached {
		s.decisions.Put(cacheKey, d)
	}
	return d, nil
}

// requestValues builds the matcher's r.sub, r.obj and r.ctx for req whose
// subject has the effective roles eff. Without attrs no condition can run:
// r.obj holds only what resourceMatch reads (type and id), and r.sub and
// r.ctx are left empty.
func requestValues(req request, eff []string, now time.Time, attrs bool) (sub, obj, ctx map[string]any) {
	if !attrs {
		return noValues, map[string]any{"type": req.ResType, "id": req.ResID}, noValues
	}
	obj = make(map[string]any, len(req.ResProp)+4)
	for k, v := range req.ResProp {
		obj[k] = v
	}
	obj["type"], obj["id"], obj["key"], obj["owner"] = req.ResType, req.ResID, req.ResType+":"+req.ResID, req.Owner

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
	return sub, obj, ctx
}

// noValues is r.sub and r.ctx when no condition can run. Never written.
var noValues = map[string]any{}

// reload reads the version and the tables, then swaps them in. The version
// is read first: a change committed in between is loaded now and loaded
// again at the next poll, never missed.
func (e *engine) reload(ctx context.Context, st store) error {
	v, err := st.version(ctx)
	if err != nil {
		return err
	}
	rows, err := e.adapter.fetch(ctx)
	if err != nil {
		return err
	}
	return e.load(v, rows)
}

func (e *engine) loadedVersion() int64 { return e.snap.Load().version }

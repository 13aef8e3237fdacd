package authz

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2/util"
)

func subjectMatches(key string, roles []string, pattern string) bool {
	if pattern == key {
		return true
	}
	name, ok := strings.CutPrefix(pattern, "role:")
	if !ok {
		return false
	}
	for _, r := range roles {
		if r == name {
			return true
		}
	}
	return false
}

// resourceMatches applies keyMatch to the type and the id separately:
// "*" matches anything, "abc*" any value starting with "abc".
func resourceMatches(resType, resID, pattern string) bool {
	pt, pid, ok := strings.Cut(pattern, ":")
	if !ok {
		return false
	}
	return util.KeyMatch(resType, pt) && util.KeyMatch(resID, pid)
}

func actionMatches(action, pattern string) bool { return pattern == "*" || pattern == action }

var errArgs = errors.New("authz: bad arguments")

// subjectMatchFunc(r.sub, p.sub): p.sub is the subject's own key, or
// "role:<name>" for one of its effective roles.
func subjectMatchFunc(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("%w: subjectMatch takes 2 arguments", errArgs)
	}
	sub, ok1 := args[0].(map[string]any)
	pattern, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: subjectMatch(r.sub, p.sub)", errArgs)
	}
	key, _ := sub["key"].(string)
	if pattern == key {
		return true, nil
	}
	name, ok := strings.CutPrefix(pattern, "role:")
	if !ok {
		return false, nil
	}
	roles, _ := sub["roles"].([]any)
	for _, r := range roles {
		if r == name {
			return true, nil
		}
	}
	return false, nil
}

// resourceMatchFunc(r.obj, p.obj): see resourceMatches.
func resourceMatchFunc(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("%w: resourceMatch takes 2 arguments", errArgs)
	}
	obj, ok1 := args[0].(map[string]any)
	pattern, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: resourceMatch(r.obj, p.obj)", errArgs)
	}
	typ, _ := obj["type"].(string)
	id, _ := obj["id"].(string)
	return resourceMatches(typ, id, pattern), nil
}

// actionMatchFunc(r.act, p.act): equal, or p.act is "*".
func actionMatchFunc(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("%w: actionMatch takes 2 arguments", errArgs)
	}
	a, ok1 := args[0].(string)
	p, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: actionMatch(r.act, p.act)", errArgs)
	}
	return actionMatches(a, p), nil
}

// decisionCache memoizes attribute-independent decisions for one policy
// load; it is reset on every reload and when it grows past maxEntries.
type decisionCache struct {
	mu sync.Mutex
	m  map[string]Decision
}

const maxCacheEntries = 100_000

func (c *decisionCache) reset() {
	c.mu.Lock()
	c.m = make(map[string]Decision)
	c.mu.Unlock()
}

func (c *decisionCache) get(k string) (Decision, bool) {
	c.mu.Lock()
	d, ok := c.m[k]
	c.mu.Unlock()
	return d, ok
}

func (c *decisionCache) put(k string, d Decision) {
	c.mu.Lock()
	if len(c.m) >= maxCacheEntries {
		c.m = make(map[string]Decision)
	}
	c.m[k] = d
	c.mu.Unlock()
}

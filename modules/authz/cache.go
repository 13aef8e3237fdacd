package authz

import (
	"sync"
	"time"
)

// cache is the module's one cache: a map bounded to max entries whose
// entries expire ttl after they are put (never when ttl is 0). It holds
// users' roles (RoleTTL) and, per policy load, attribute-independent
// decisions. When full it drops the expired entries, and everything if
// none had expired: simple, and a miss only costs a recomputation.
type cache[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]cacheEntry[V]
	max int
	ttl time.Duration
	now func() time.Time
}

type cacheEntry[V any] struct {
	v       V
	expires time.Time
}

func newCache[K comparable, V any](max int, ttl time.Duration, now func() time.Time) *cache[K, V] {
	return &cache[K, V]{m: make(map[K]cacheEntry[V]), max: max, ttl: ttl, now: now}
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && c.ttl > 0 && !c.now().Before(e.expires) {
		ok = false
	}
	if !ok {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *cache[K, V]) put(k K, v V) {
	e := cacheEntry[V]{v: v}
	var now time.Time
	if c.ttl > 0 {
		now = c.now()
		e.expires = now.Add(c.ttl)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		if c.ttl > 0 {
			for k, old := range c.m {
				if !now.Before(old.expires) {
					delete(c.m, k)
				}
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = e
}

func (c *cache[K, V]) delete(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

func (c *cache[K, V]) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// Package cache is Gatehouse's one in-process cache: a map with a time to
// live and a size bound, safe for concurrent use. Every module that keeps
// something in memory for a while (API-key verifications, verified access
// tokens, role lookups, decisions) uses it, so expiry and memory bounds work
// the same way everywhere.
//
// It is deliberately small: reads take a shared lock and never reorder
// anything, and when the cache is full a Put first drops expired entries and,
// if that frees nothing, clears the map. For the hot, short-lived, read-mostly
// entries Gatehouse keeps that is cheaper than LRU bookkeeping on every read,
// and a cleared cache only costs a reload.
package cache

import (
	"sync"
	"time"
)

// TTL maps keys to values that expire ttl after they were put.
type TTL[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]entry[V]
	ttl time.Duration
	max int
	now func() time.Time
}

type entry[V any] struct {
	v       V
	expires time.Time // zero: never
}

// New returns a cache whose entries live ttl (0: until deleted, for caches
// that are dropped whole, such as one per policy load) and which holds at
// most max entries. now is the clock (nil: time.Now), injectable for tests.
func New[K comparable, V any](ttl time.Duration, max int, now func() time.Time) *TTL[K, V] {
	if now == nil {
		now = time.Now
	}
	return &TTL[K, V]{m: make(map[K]entry[V]), ttl: ttl, max: max, now: now}
}

// Get returns the value for k if it is present and not expired.
func (c *TTL[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if ok && !e.expires.IsZero() {
		ok = c.now().Before(e.expires)
	}
	if !ok {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v under k for the cache's ttl.
func (c *TTL[K, V]) Put(k K, v V) {
	var expires time.Time
	if c.ttl != 0 {
		expires = c.now().Add(c.ttl)
	}
	c.PutUntil(k, v, expires)
}

// PutUntil stores v under k until expires (for values with their own
// lifetime, such as a token that expires sooner than the ttl); the zero
// time keeps it until it is deleted.
func (c *TTL[K, V]) PutUntil(k K, v V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		now := c.now()
		for key, e := range c.m {
			if !e.expires.IsZero() && !now.Before(e.expires) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = entry[V]{v: v, expires: expires}
}

// Delete removes k.
func (c *TTL[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// DeleteFunc removes every entry for which drop returns true.
func (c *TTL[K, V]) DeleteFunc(drop func(K, V) bool) {
	c.mu.Lock()
	for k, e := range c.m {
		if drop(k, e.v) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// Clear removes every entry.
func (c *TTL[K, V]) Clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// Len is the number of entries, expired ones included until evicted.
func (c *TTL[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

package cache

import (
	"testing"
	"time"
)

func TestExpiryAndBound(t *testing.T) {
	now := time.Unix(0, 0)
	c := New[string, int](time.Minute, 2, func() time.Time { return now })
	c.Put("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %v, %v", v, ok)
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get("a"); ok {
		t.Fatal("entry outlived its ttl")
	}
	// Full: the expired entry makes room, the live one stays.
	c.Put("b", 2)
	c.Put("c", 3)
	if _, ok := c.Get("b"); !ok || c.Len() != 2 {
		t.Fatalf("expired entry not evicted first: len %d", c.Len())
	}
	// Full of live entries: the map is cleared rather than grown.
	c.Put("d", 4)
	if c.Len() != 1 {
		t.Fatalf("len = %d, want 1 after clearing a full cache", c.Len())
	}
	c.PutUntil("e", 5, now.Add(time.Second))
	now = now.Add(2 * time.Second)
	if _, ok := c.Get("e"); ok {
		t.Fatal("PutUntil's own expiry ignored")
	}
	c.Put("f", 6)
	c.DeleteFunc(func(k string, v int) bool { return v == 6 })
	if _, ok := c.Get("f"); ok {
		t.Fatal("DeleteFunc kept a matching entry")
	}
}

func TestNoExpiry(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	c := New[string, int](0, 2, clock)
	c.Put("a", 1)
	now = now.Add(100 * 365 * 24 * time.Hour)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("ttl 0: Get(a) = %v, %v, want kept until deleted", v, ok)
	}
	// Full: an entry without expiry is not evicted as expired; the bound
	// still holds.
	c.Put("b", 2)
	c.Put("c", 3)
	if c.Len() != 1 {
		t.Fatalf("len = %d, want 1 after clearing a full cache", c.Len())
	}
	// In a cache with a ttl, the zero time also means no expiry.
	d := New[string, int](time.Minute, 2, clock)
	d.PutUntil("z", 26, time.Time{})
	d.Put("e", 5)
	now = now.Add(time.Hour)
	if _, ok := d.Get("z"); !ok {
		t.Fatal("PutUntil with the zero time expired")
	}
	if _, ok := d.Get("e"); ok {
		t.Fatal("Put kept an entry past the ttl")
	}
	d.Put("f", 6) // full: the expired e makes room, z stays
	if _, ok := d.Get("z"); !ok || d.Len() != 2 {
		t.Fatalf("eviction dropped the entry without expiry (len %d)", d.Len())
	}
}

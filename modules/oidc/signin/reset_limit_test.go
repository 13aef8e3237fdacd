package signin

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestResetAddressLimitSharedByReplicas: two sign-in page sets on one
// database (two replicas) together allow 3 reset requests per address in
// 15 minutes — however the address is capitalised — leave other addresses
// and the source limit alone, survive the background clean-up, and let the
// address in again once its oldest request is 15 minutes old.
func TestResetAddressLimitSharedByReplicas(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		shared := func(c *Config) { c.Now = clock.Now }
		a := newPagesTestEnvOn(t, db, shared).pages
		b := newPagesTestEnvOn(t, db, shared).pages
		ctx := context.Background()
		allow := func(p *Pages, email string) bool {
			t.Helper()
			ok, err := p.allowResetRequest(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		for i, p := range []*Pages{a, b, a} {
			if !allow(p, "Bob@Example.com") {
				t.Fatalf("request %d refused", i+1)
			}
			clock.Advance(time.Minute)
		}
		if allow(b, " bob@example.com") || allow(a, "BOB@example.com") {
			t.Fatal("a 4th request within 15 minutes allowed (the replicas do not share the count)")
		}
		if !allow(b, "carol@example.com") {
			t.Error("another address refused")
		}
		if d, err := a.counter.hitSource(ctx, throttleKey("ip", "192.0.2.1"), clock.Now()); err != nil || d != 0 {
			t.Errorf("the source limit is affected: %v, %v", d, err)
		}
		// The clean-up, which forgets sign-in hits after a minute, keeps
		// reset requests for their whole window.
		clock.Advance(5 * time.Minute)
		if err := a.counter.deleteStale(ctx, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if allow(a, "bob@example.com") {
			t.Fatal("allowed again after the clean-up, 8 minutes after the first request")
		}
		// 15 minutes after the first request one slot is free, not more.
		clock.Advance(7 * time.Minute)
		if !allow(b, "bob@example.com") {
			t.Fatal("refused once the first request left the window")
		}
		if allow(a, "bob@example.com") {
			t.Fatal("two requests let in when one slot freed")
		}
	})
}

// TestResetAddressLimitConcurrent: requests for one address racing on two
// replicas get exactly the limit in.
func TestResetAddressLimitConcurrent(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		shared := func(c *Config) { c.Now = clock.Now }
		replicas := []*Pages{newPagesTestEnvOn(t, db, shared).pages, newPagesTestEnvOn(t, db, shared).pages}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				ok, err := replicas[g%2].allowResetRequest(context.Background(), "dave@example.com")
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := allowed.Load(); n != resetAddressLimit {
			t.Fatalf("%d of 8 concurrent requests allowed, want %d", n, resetAddressLimit)
		}
	})
}

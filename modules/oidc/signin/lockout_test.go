package signin

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// forEachCounter runs fn against the database counter on both dialects.
func forEachCounter(t *testing.T, fn func(t *testing.T, c *lockout)) {
	t.Helper()
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		fn(t, newDBSignInCounter(db.Gorm, throttlePolicy{}))
	})
}

func TestThrottlePolicyLockDuration(t *testing.T) {
	p := defaultThrottlePolicy
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := p.lockDuration(i + 1); got != w {
			t.Errorf("lock %d: got %v, want %v", i+1, got, w)
		}
	}
}

func TestSignInCounterLocksAndDoubles(t *testing.T) {
	forEachCounter(t, func(t *testing.T, c *lockout) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		key := throttleKey("login", " Alice@Example.com ")
		if key != throttleKey("login", "alice@example.com") {
			t.Fatal("throttleKey does not normalize case and spaces")
		}
		failN := func(n int) time.Duration {
			t.Helper()
			var locked time.Duration
			for i := 0; i < n; i++ {
				d, err := c.fail(ctx, key, clock.Now(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if d != 0 && i != n-1 {
					t.Fatalf("locked after %d failures, want after %d", i+1, n)
				}
				locked = d
			}
			return locked
		}
		if d := failN(9); d != 0 {
			t.Fatalf("9 failures locked for %v", d)
		}
		if d, _ := c.lockedFor(ctx, key, clock.Now()); d != 0 {
			t.Fatalf("locked after 9 failures: %v", d)
		}
		if d := failN(1); d != time.Minute {
			t.Fatalf("10th failure: lock %v, want 1m", d)
		}
		if d, err := c.lockedFor(ctx, key, clock.Now()); err != nil || d != time.Minute {
			t.Fatalf("lockedFor = %v, %v; want 1m", d, err)
		}
		clock.Advance(59 * time.Second)
		if d, _ := c.lockedFor(ctx, key, clock.Now()); d != time.Second {
			t.Fatalf("lockedFor after 59s = %v, want 1s", d)
		}
		clock.Advance(time.Second)
		if d, _ := c.lockedFor(ctx, key, clock.Now()); d != 0 {
			t.Fatalf("still locked after 60s: %v", d)
		}
		// The next ten failures lock for twice as long.
		if d := failN(10); d != 2*time.Minute {
			t.Fatalf("second lock %v, want 2m", d)
		}
		clock.Advance(2 * time.Minute)
		if d := failN(10); d != 4*time.Minute {
			t.Fatalf("third lock %v, want 4m", d)
		}
		// Other identifiers are unaffected.
		other := throttleKey("login", "bob")
		if d, _ := c.lockedFor(ctx, other, clock.Now()); d != 0 {
			t.Fatalf("other identifier locked: %v", d)
		}
		// A success resets the count and the lock history.
		clock.Advance(4 * time.Minute)
		if err := c.succeed(ctx, key); err != nil {
			t.Fatal(err)
		}
		if d := failN(9); d != 0 {
			t.Fatalf("locked after reset and 9 failures: %v", d)
		}
		if err := c.succeed(ctx, key); err != nil {
			t.Fatal(err)
		}
		if d := failN(10); d != time.Minute {
			t.Fatalf("lock after reset %v, want 1m (history forgotten)", d)
		}
	})
}

func TestSignInCounterCapsAtMaxLock(t *testing.T) {
	forEachCounter(t, func(t *testing.T, c *lockout) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		key := throttleKey("login", "carol")
		var last time.Duration
		for lock := 1; lock <= 8; lock++ {
			for i := 0; i < 10; i++ {
				d, err := c.fail(ctx, key, clock.Now(), nil)
				if err != nil {
					t.Fatal(err)
				}
				last = d
			}
			if want := defaultThrottlePolicy.lockDuration(lock); last != want {
				t.Fatalf("lock %d: %v, want %v", lock, last, want)
			}
			clock.Advance(last)
		}
		if last != time.Hour {
			t.Fatalf("lock not capped at 1h: %v", last)
		}
	})
}

func TestSignInCounterForgetsOldFailures(t *testing.T) {
	forEachCounter(t, func(t *testing.T, c *lockout) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		key := throttleKey("login", "dave")
		for i := 0; i < 9; i++ {
			if _, err := c.fail(ctx, key, clock.Now(), nil); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(25 * time.Hour)
		d, err := c.fail(ctx, key, clock.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if d != 0 {
			t.Fatalf("a failure a day after the others locked: %v", d)
		}
	})
}

func TestDBSignInCounterDeleteStale(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := context.Background()
		c := newDBSignInCounter(db.Gorm, throttlePolicy{})
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		for i := 0; i < 10; i++ {
			if _, err := c.fail(ctx, throttleKey("login", "erin"), clock.Now(), nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.hitSource(ctx, throttleKey("ip", "192.0.2.1"), clock.Now()); err != nil {
			t.Fatal(err)
		}
		count := func(table string) int64 {
			var n int64
			if err := db.Gorm.Table(table).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if err := c.deleteStale(ctx, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if count("oidc_signin_failures") != 1 || count("oidc_signin_attempts") != 1 || count("oidc_signin_source_hits") != 1 {
			t.Fatal("fresh counters were deleted")
		}
		clock.Advance(25 * time.Hour)
		if err := c.deleteStale(ctx, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if count("oidc_signin_failures") != 0 || count("oidc_signin_attempts") != 0 || count("oidc_signin_source_hits") != 0 {
			t.Fatal("stale counters were kept")
		}
	})
}

package signin

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestSourceLimitSlidingWindowAcrossMinuteBoundary: 61 attempts in 2.4 s
// that straddle a minute boundary — the 61st is refused (CONTRACT: at most
// 60 in any 60 seconds, not per calendar minute), until the first attempt
// is 60 s old. The same on SQLite and PostgreSQL.
func TestSourceLimitSlidingWindowAcrossMinuteBoundary(t *testing.T) {
	forEachCounter(t, func(t *testing.T, c *lockout) {
		ctx := context.Background()
		start := time.Date(2026, 3, 1, 10, 0, 58, 800_000_000, time.UTC)
		clock := testutil.NewClock(start)
		src := throttleKey("ip", "192.0.2.7")
		for i := 0; i < 60; i++ {
			d, err := c.hitSource(ctx, src, clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if d != 0 {
				t.Fatalf("attempt %d at %s refused (retry after %v)", i+1, clock.Now().Format("15:04:05.000"), d)
			}
			clock.Advance(40 * time.Millisecond)
		}
		// 10:01:01.200, 2.4 s after the first attempt.
		d, err := c.hitSource(ctx, src, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if want := 57600 * time.Millisecond; d != want {
			t.Fatalf("61st attempt at %s, 2.4 s after the first (across a minute boundary): retry after %v, want %v",
				clock.Now().Format("15:04:05.000"), d, want)
		}
		if d, _ := c.hitSource(ctx, throttleKey("ip", "192.0.2.8"), clock.Now()); d != 0 {
			t.Fatalf("another address refused: %v", d)
		}
		// Just before the first attempt is 60 s old: still refused.
		clock.Advance(57599 * time.Millisecond)
		if d, _ := c.hitSource(ctx, src, clock.Now()); d != time.Millisecond {
			t.Fatalf("1 ms before the oldest attempt leaves the window: retry after %v, want 1ms", d)
		}
		// Then exactly one slot frees every 40 ms.
		clock.Advance(time.Millisecond)
		if d, _ := c.hitSource(ctx, src, clock.Now()); d != 0 {
			t.Fatalf("refused once the oldest attempt left the window: %v", d)
		}
		if d, _ := c.hitSource(ctx, src, clock.Now()); d != 40*time.Millisecond {
			t.Fatalf("second attempt in the freed slot: retry after %v, want 40ms", d)
		}
	})
}

// TestSourceLimitConcurrent: attempts from one source on many goroutines
// (as on several replicas) never get more than the limit in; the deciding
// transaction serialises them under the source's row lock.
func TestSourceLimitConcurrent(t *testing.T) {
	forEachCounter(t, func(t *testing.T, c *lockout) {
		ctx := context.Background()
		clock := testutil.NewClock(time.Date(2026, 3, 1, 10, 0, 59, 0, time.UTC))
		src := throttleKey("ip", "198.51.100.9")
		var accepted atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 15; i++ {
					d, err := c.hitSource(ctx, src, clock.Now())
					if err != nil {
						errs <- err
						return
					}
					if d == 0 {
						accepted.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := accepted.Load(); n != 60 {
			t.Fatalf("%d of 120 concurrent attempts accepted in one window, want exactly 60", n)
		}
	})
}

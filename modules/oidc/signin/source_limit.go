package signin

import (
	"context"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/netaddr"
)

// The per-source limit (CONTRACT "Sign-in protection"): one source address
// gets at most SourceLimit sign-in attempts in any SourceWindow — a sliding
// window, not a calendar minute, so a burst that straddles a minute
// boundary is refused like any other. It is an exact sliding log: every
// accepted attempt is a row of oidc_signin_source_hits, and an attempt is
// accepted only while fewer than SourceLimit rows of its source are younger
// than SourceWindow. Refused attempts are not logged, so a source that
// keeps trying is let in again as soon as its oldest accepted attempt ages
// out (which is what Retry-After says).
//
// One transaction decides: it first upserts the source's row of
// oidc_signin_attempts, which takes that row's lock on PostgreSQL (and the
// database's write lock on SQLite, whose transactions begin immediate), so
// concurrent attempts from one source — on this replica or another — are
// counted one after another and never more than SourceLimit get in. Under
// READ COMMITTED each statement sees what the previous holder committed.

// sourceKey is the key a request's attempts count under: the client
// address the server determined (trusted proxies applied, pagesClientIP)
// as a rate key — an IPv4 address as it is, an IPv6 address as its /64 —
// hashed like the other counter keys.
func sourceKey(c echo.Context) string {
	return throttleKey("ip", netaddr.RateKey(pagesClientIP(c)))
}

// hitSource counts one attempt from a source (its throttleKey) at now and,
// when the source already has SourceLimit attempts in the window, refuses
// it and returns how long until the oldest of them leaves the window.
func (c *lockout) hitSource(ctx context.Context, source string, now time.Time) (time.Duration, error) {
	return c.hitWindow(ctx, source, c.policy.SourceLimit, c.policy.SourceWindow, now)
}

// hitWindow is the sliding log for any key: at most limit hits in any
// window. Other limits (reset_limit.go) use it with their own key
// namespace (throttleKey's kind) and window.
func (c *lockout) hitWindow(ctx context.Context, source string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	nowMS := now.UnixMilli()
	windowMS := window.Milliseconds()
	var wait time.Duration
	// Counted even when the client has gone away meanwhile.
	err := c.db.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		// The per-source lock; window_start is the last attempt (Unix s).
		if err := tx.Exec(`INSERT INTO oidc_signin_attempts (source_key, window_start, attempts) VALUES (?, ?, 0)
ON CONFLICT (source_key) DO UPDATE SET window_start = excluded.window_start`, source, now.Unix()).Error; err != nil {
			return err
		}
		var got struct {
			N      int
			Oldest int64
		}
		if err := tx.Raw(`SELECT COUNT(*) AS n, COALESCE(MIN(at_ms), 0) AS oldest FROM oidc_signin_source_hits
WHERE source_key = ? AND at_ms > ?`, source, nowMS-windowMS).Scan(&got).Error; err != nil {
			return err
		}
		if got.N >= limit {
			wait = time.Duration(got.Oldest+windowMS-nowMS) * time.Millisecond
			return nil
		}
		return tx.Exec(`INSERT INTO oidc_signin_source_hits (source_key, at_ms) VALUES (?, ?)`, source, nowMS).Error
	})
	if err != nil {
		return 0, fmt.Errorf("oidc: count sign-in attempt: %w", err)
	}
	return max(wait, 0), nil
}

// deleteStaleHits forgets attempts that left the longest window in use
// (the sign-in's or the reset requests'), and the lock rows of keys that
// have been quiet for two sign-in windows (background clean-up; a lock row
// is only a lock and comes back with the next hit).
func (c *lockout) deleteStaleHits(ctx context.Context, now time.Time) error {
	db := c.db.WithContext(ctx)
	if err := db.Exec(`DELETE FROM oidc_signin_source_hits WHERE at_ms <= ?`,
		now.Add(-max(c.policy.SourceWindow, resetAddressWindow)).UnixMilli()).Error; err != nil {
		return fmt.Errorf("oidc: clean sign-in attempts: %w", err)
	}
	if err := db.Exec(`DELETE FROM oidc_signin_attempts WHERE window_start < ?`,
		now.Add(-2*c.policy.SourceWindow).Unix()).Error; err != nil {
		return fmt.Errorf("oidc: clean sign-in attempts: %w", err)
	}
	return nil
}

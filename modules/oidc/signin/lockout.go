package signin

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
)

// Sign-in protection (CONTRACT "Sign-in protection"): ten failed sign-ins in
// a row for one account lock its password sign-in for 60 s, doubling with
// each further lock up to an hour; a success resets the count. One source
// address gets at most 60 attempts in any 60 seconds (a sliding log,
// source_limit.go).
//
// Failures are counted per account (attempt.go: whichever identifier, email
// or username, names it), and per normalized identifier when it names
// nobody, so a lock says nothing about whether the account exists.
// Counters live in the database, where every replica sees them.

// throttlePolicy holds the limits. Zero fields take the contract's values.
type throttlePolicy struct {
	// LockAfter failures in a row lock the identifier.
	LockAfter int
	// FirstLock is the first lock's length; each further lock doubles it,
	// up to MaxLock.
	FirstLock time.Duration
	MaxLock   time.Duration
	// ForgetAfter: failures and lock history older than this are forgotten.
	ForgetAfter time.Duration
	// SourceLimit attempts in any SourceWindow from one address.
	SourceLimit  int
	SourceWindow time.Duration
}

var defaultThrottlePolicy = throttlePolicy{
	LockAfter:    10,
	FirstLock:    time.Minute,
	MaxLock:      time.Hour,
	ForgetAfter:  24 * time.Hour,
	SourceLimit:  60,
	SourceWindow: time.Minute,
}

func (p throttlePolicy) withDefaults() throttlePolicy {
	d := defaultThrottlePolicy
	p.LockAfter = cmp.Or(p.LockAfter, d.LockAfter)
	p.FirstLock = cmp.Or(p.FirstLock, d.FirstLock)
	p.MaxLock = cmp.Or(p.MaxLock, d.MaxLock)
	p.ForgetAfter = cmp.Or(p.ForgetAfter, d.ForgetAfter)
	p.SourceLimit = cmp.Or(p.SourceLimit, d.SourceLimit)
	p.SourceWindow = cmp.Or(p.SourceWindow, d.SourceWindow)
	return p
}

// lockDuration is the length of the n-th lock (n >= 1).
func (p throttlePolicy) lockDuration(n int) time.Duration {
	d := p.FirstLock
	for i := 1; i < n && d < p.MaxLock; i++ {
		d *= 2
	}
	return min(d, p.MaxLock)
}

// throttleKey normalizes a submitted login identifier (or a source address)
// and hashes it, so what someone typed — sometimes a password — is not
// stored in the counters.
func throttleKey(kind, value string) string {
	v := strings.ToLower(strings.TrimSpace(value))
	sum := sha256.Sum256([]byte(kind + ":" + v))
	return hex.EncodeToString(sum[:])
}

// retrySeconds rounds a wait up to whole seconds (Retry-After, RFC 9110
// §10.2.3), at least 1.
func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// lockout keeps the counters in oidc_signin_failures (atomic upserts:
// INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING, the same on SQLite and
// PostgreSQL) and the per-source log in oidc_signin_source_hits, decided
// under the source's row of oidc_signin_attempts. It never joins a caller's
// transaction: an attempt must count even when the sign-in rolls back.
type lockout struct {
	db     *gorm.DB
	policy throttlePolicy
}

func newDBSignInCounter(db *gorm.DB, p throttlePolicy) *lockout {
	return &lockout{db: db, policy: p.withDefaults()}
}

// lockedFor returns how long the identifier stays locked (0: not locked).
func (c *lockout) lockedFor(ctx context.Context, login string, now time.Time) (time.Duration, error) {
	var until []int64
	err := c.db.WithContext(ctx).Raw(`SELECT locked_until FROM oidc_signin_failures WHERE login_key = ?`, login).Scan(&until).Error
	if err != nil {
		return 0, fmt.Errorf("oidc: read sign-in lock: %w", err)
	}
	if len(until) == 0 || until[0] <= now.Unix() {
		return 0, nil
	}
	return time.Unix(until[0], 0).Sub(now), nil
}

// fail counts one failed sign-in; when it locks the identifier it
// returns the lock's length (else 0) and, before the lock commits, calls
// onLock (when not nil) with the lock's transaction in its context, so what
// onLock writes (the account's notice) commits or rolls back with the lock.
// It counts even when the client has gone away meanwhile: aborting the
// request must not undo the failure.
func (c *lockout) fail(ctx context.Context, login string, now time.Time, onLock func(ctx context.Context, locked time.Duration) error) (time.Duration, error) {
	var locked time.Duration
	err := database.TransactAlone(context.WithoutCancel(ctx), c.db, func(ctx context.Context) error {
		tx := database.Conn(ctx, c.db)
		type counts struct {
			Failures int
			Locks    int
		}
		var got counts
		// The upsert takes the row lock (PostgreSQL) or the write lock
		// (SQLite, _txlock=immediate) until commit, so the lock decision
		// below sees no concurrent change.
		err := tx.Raw(`INSERT INTO oidc_signin_failures (login_key, failures, locks, locked_until, last_failure_at) VALUES (?, 1, 0, 0, ?)
ON CONFLICT (login_key) DO UPDATE SET
  failures = CASE WHEN oidc_signin_failures.last_failure_at < ? THEN 1 ELSE oidc_signin_failures.failures + 1 END,
  locks = CASE WHEN oidc_signin_failures.last_failure_at < ? THEN 0 ELSE oidc_signin_failures.locks END,
  last_failure_at = excluded.last_failure_at
RETURNING failures, locks`, login, now.Unix(), now.Add(-c.policy.ForgetAfter).Unix(), now.Add(-c.policy.ForgetAfter).Unix()).Scan(&got).Error
		if err != nil {
			return err
		}
		if got.Failures < c.policy.LockAfter {
			return nil
		}
		locked = c.policy.lockDuration(got.Locks + 1)
		if err := tx.Exec(`UPDATE oidc_signin_failures SET failures = 0, locks = ?, locked_until = ? WHERE login_key = ?`,
			got.Locks+1, now.Add(locked).Unix(), login).Error; err != nil {
			return err
		}
		if onLock != nil {
			return onLock(ctx, locked)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("oidc: count sign-in failure: %w", err)
	}
	return locked, nil
}

// succeed resets the identifier's failures and lock history.
func (c *lockout) succeed(ctx context.Context, login string) error {
	if err := c.db.WithContext(ctx).Exec(`DELETE FROM oidc_signin_failures WHERE login_key = ?`, login).Error; err != nil {
		return fmt.Errorf("oidc: reset sign-in failures: %w", err)
	}
	return nil
}

// deleteStale removes counters nobody needs any more (background clean-up).
func (c *lockout) deleteStale(ctx context.Context, now time.Time) error {
	db := c.db.WithContext(ctx)
	if err := c.deleteStaleHits(ctx, now); err != nil {
		return err
	}
	if err := db.Exec(`DELETE FROM oidc_signin_failures WHERE last_failure_at < ? AND locked_until < ?`,
		now.Add(-c.policy.ForgetAfter).Unix(), now.Unix()).Error; err != nil {
		return fmt.Errorf("oidc: clean sign-in failures: %w", err)
	}
	return nil
}

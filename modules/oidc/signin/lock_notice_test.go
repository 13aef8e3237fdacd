package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/mail"
)

// TestLockNotice: the sign-in that locks an account queues exactly one
// notice to its owner (not one per failure, none for the refused attempts
// while it is locked, none for an identifier that names nobody), on both
// dialects.
func TestLockNotice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		e := newPagesTestEnvOn(t, db, func(c *Config) {
			m, err := mail.New(db, mail.Options{Issuer: "http://localhost:8080", Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			c.Notifier = m
		})
		b := e.browser()
		for i := 0; i < 12; i++ {
			want := http.StatusUnauthorized
			if i >= 10 {
				want = http.StatusTooManyRequests
			}
			if pg := b.submit("/login", "/login", url.Values{"username": {"alice"}, "password": {"wrong"}}); pg.status != want {
				t.Fatalf("attempt %d: status %d, want %d", i+1, pg.status, want)
			}
			if n := len(testutil.Outbox(t, db)); (i < 9 && n != 0) || (i >= 9 && n != 1) {
				t.Fatalf("after attempt %d: %d notices", i+1, n)
			}
		}
		mails := testutil.Outbox(t, db)
		if mails[0].To != "alice@example.com" || !strings.HasPrefix(mails[0].Subject, "Security notice") ||
			!strings.Contains(mails[0].Body, "After 10 failed sign-in attempts, signing in to your account with its password was blocked for 1 minute.") {
			t.Fatalf("notice: %+v", mails[0])
		}
		// An identifier that names nobody locks too, silently.
		nb := e.browser()
		for i := 0; i < 10; i++ {
			nb.submit("/login", "/login", url.Values{"username": {"nobody@example.com"}, "password": {"wrong"}})
		}
		if e.auditCount("login.locked") != 2 || len(testutil.Outbox(t, db)) != 1 {
			t.Fatalf("locks %d, notices %+v", e.auditCount("login.locked"), testutil.Outbox(t, db))
		}
	})
}

// TestLockNoticeRollsBackWithTheLock: the notice is queued in the lock's
// transaction: when that fails, there is neither lock nor mail; when it
// commits, both.
func TestLockNoticeRollsBackWithTheLock(t *testing.T) {
	forEachDBCounter(t, func(t *testing.T, db database.DB, c *lockout) {
		m, err := mail.New(db, mail.Options{Issuer: "http://localhost:8080"})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		now := time.Now()
		key := throttleKey("user", "u-1")
		errBoom := errors.New("boom")
		notice := func(fail bool) func(context.Context, time.Duration) error {
			return func(ctx context.Context, d time.Duration) error {
				if !database.InTx(ctx) {
					t.Error("onLock outside the lock's transaction")
				}
				if err := m.Notify(ctx, noticeTemplate, "u1@example.com", map[string]string{"detail": "locked"}); err != nil {
					return err
				}
				if fail {
					return errBoom
				}
				return nil
			}
		}
		for i := 0; i < 9; i++ {
			if _, err := c.fail(ctx, key, now, notice(true)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.fail(ctx, key, now, notice(true)); !errors.Is(err, errBoom) {
			t.Fatalf("10th failure with a failing notice: %v", err)
		}
		if d, _ := c.lockedFor(ctx, key, now); d != 0 || len(testutil.Outbox(t, db)) != 0 {
			t.Fatalf("rolled back: locked %v, outbox %+v", d, testutil.Outbox(t, db))
		}
		if d, err := c.fail(ctx, key, now, notice(false)); err != nil || d != time.Minute {
			t.Fatalf("10th failure: %v %v", d, err)
		}
		if d, _ := c.lockedFor(ctx, key, now); d == 0 || len(testutil.Outbox(t, db)) != 1 {
			t.Fatalf("committed: locked %v, outbox %+v", d, testutil.Outbox(t, db))
		}
	})
}

func forEachDBCounter(t *testing.T, fn func(t *testing.T, db database.DB, c *lockout)) {
	t.Helper()
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		fn(t, db, newDBSignInCounter(db.Gorm, throttlePolicy{}))
	})
}

func TestLockText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute: "1 minute", 8 * time.Minute: "8 minutes", time.Hour: "1 hour", 90 * time.Second: "90 seconds", 1500 * time.Millisecond: "2 seconds",
	} {
		if got := lockText(d); got != want {
			t.Errorf("lockText(%v) = %q, want %q", d, got, want)
		}
	}
}

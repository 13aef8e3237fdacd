package signin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/web"
)

// lockNotice is what fail does when an attempt locks an account: mail its
// owner a notice in the lock's transaction (nothing for an identifier that
// names no account, or without a Notifier). A notice that cannot be queued
// (an address the mail module refuses) is logged and does not undo the
// lock; a database error fails the transaction like any other.
func (p *Pages) lockNotice(who attempt) func(ctx context.Context, locked time.Duration) error {
	if p.notifier == nil || who.Email == "" {
		return nil
	}
	return func(ctx context.Context, locked time.Duration) error {
		err := p.notifier.Notify(ctx, noticeTemplate, who.Email, map[string]string{"detail": fmt.Sprintf(
			"After %d failed sign-in attempts, signing in to your account with its password was blocked for %s.",
			p.counter.policy.LockAfter, lockText(locked))})
		if err != nil {
			p.logger.ErrorContext(ctx, "oidc: could not queue the account-locked notice", "user", who.UserID, "error", err)
		}
		return nil
	}
}

// lockText says how long a lock lasts ("1 minute", "8 minutes", "1 hour").
func lockText(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return plural(retrySeconds(d), "second")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// refuse answers a throttled attempt: 429 with Retry-After and a page
// saying when to try again, and an audit event. The page is the same
// whether or not the account exists.
func (p *Pages) refuse(c echo.Context, who attempt, reason string, wait time.Duration) error {
	if err := p.audit.Record(c.Request().Context(), audit.Event{
		Action: "login.throttled", Target: who.Target,
		Outcome: audit.Denied, Details: map[string]string{"reason": reason, "retry_after": strconv.Itoa(retrySeconds(wait))},
	}); err != nil {
		return err
	}
	secs := retrySeconds(wait)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return p.render.HTML(c, http.StatusTooManyRequests, tmplThrottled, throttledView{
		Page:    web.Page{Title: "Too many sign-in attempts"},
		Seconds: secs,
		Until:   p.now().Add(time.Duration(secs) * time.Second).Format("15:04:05 UTC"),
	})
}

package signin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/netaddr"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/passkeys"
)

// Signing in with a passkey ("Use passkey" and autofill on /login). The
// browser script (web/static/passkeys.js) posts to begin, runs
// navigator.credentials.get with the options, and posts the assertion to
// finish, which starts or refreshes the session with amr ["hwk", "user"]
// (RFC 8176: a hardware-bound key, with user verification) and answers
// {"redirect"}: back to /login for a pending authorization request, which
// then continues it (afterAuthentication), or return_to.
const (
	pathPasskeyBegin  = "/login/passkey/begin"
	pathPasskeyFinish = "/login/passkey/finish"
)

// Messages of the passkey step-up.
const (
	msgStepUpPasskey = "This app asks you to confirm this sign-in with your passkey."
	msgFreshPasskey  = "Confirm it's you: use your passkey, or enter your password."
)

// passkeyView is the passkey part of oidc/login.html. Enabled shows the
// "Use passkey" button and autofill; First puts it above the password form
// (step-up, or a fresh sign-in by a user who has a passkey) with Explain.
type passkeyView struct {
	Enabled bool
	First   bool
	Explain string
	Begin   string // begin URL, carrying authRequestID (or return_to)
	Finish  string // finish URL, carrying the same
}

// passkeyURLs fills the endpoints of v for the request id or return_to.
func passkeyURLs(v passkeyView, authRequestID, returnTo string) passkeyView {
	q := url.Values{}
	if authRequestID != "" {
		q.Set("authRequestID", authRequestID)
	} else if returnTo != "" {
		q.Set("return_to", returnTo)
	}
	suffix := ""
	if len(q) > 0 {
		suffix = "?" + q.Encode()
	}
	v.Begin, v.Finish = pathPasskeyBegin+suffix, pathPasskeyFinish+suffix
	return v
}

// passkeyPrompt decides how /login presents the passkey for req: first and
// explained when the request asks for one (acr_values=phr), or asks for a
// fresh authentication (prompt=login, max_age) of a signed-in user who has
// a passkey.
func (p *Pages) passkeyPrompt(c echo.Context, req flow.PendingRequest, sess session, hasSession bool) (passkeyView, error) {
	if p.passkeys == nil {
		return passkeyView{}, nil
	}
	switch {
	case acrNeedsPasskey(req):
		return passkeyView{First: true, Explain: msgStepUpPasskey}, nil
	case hasSession && p.needsFreshAuth(req, sess):
		has, err := p.passkeys.HasPasskey(c.Request().Context(), sess.UserID)
		if err != nil {
			return passkeyView{}, err
		}
		if has {
			return passkeyView{First: true, Explain: msgFreshPasskey}, nil
		}
	}
	return passkeyView{}, nil
}

// userHasPasskey reports whether the user could step up with a passkey.
func (p *Pages) userHasPasskey(c echo.Context, userID string) (bool, error) {
	if p.passkeys == nil {
		return false, nil
	}
	return p.passkeys.HasPasskey(c.Request().Context(), userID)
}

// stepUpUser returns the signed-in user a begun ceremony is limited to: the
// session's user when the browser has a session and the request asks it
// for a fresh proof or a passkey (so the authenticator offers only that
// user's passkeys), else "" (any passkey: usernameless sign-in).
func (p *Pages) stepUpUser(c echo.Context, authRequestID string) (string, error) {
	if authRequestID == "" {
		return "", nil
	}
	sess, ok, err := p.currentSession(c)
	if err != nil || !ok {
		return "", err
	}
	req, err := p.flow.PendingRequest(c.Request().Context(), authRequestID)
	if err != nil {
		return "", nil // finish reports the unknown request
	}
	if acrNeedsPasskey(req) || p.needsFreshAuth(req, sess) {
		return sess.UserID, nil
	}
	return "", nil
}

// postPasskeyBegin answers {"options", "handle"} for navigator.credentials.get.
func (p *Pages) postPasskeyBegin(c echo.Context) error {
	ctx := c.Request().Context()
	// Each ceremony is a row until it is used or expires: one source may
	// begin at most as many as it may make sign-in attempts (counted apart
	// from them, since autofill begins one on every /login).
	if limited, err := p.passkeyThrottled(c, throttleKey("passkey-begin", netaddr.RateKey(pagesClientIP(c))), "passkey-begin"); limited || err != nil {
		return err
	}
	userID, err := p.stepUpUser(c, c.FormValue("authRequestID"))
	if err != nil {
		return err
	}
	var cer passkeys.Ceremony
	if userID != "" {
		cer, err = p.passkeys.BeginReauth(ctx, userID)
	}
	if userID == "" || errors.Is(err, passkeys.ErrNotFound) {
		cer, err = p.passkeys.BeginLogin(ctx)
	}
	if errors.Is(err, passkeys.ErrUserDisabled) {
		return httpserver.WriteProblem(c, http.StatusForbidden, msgDisabled)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, cer)
}

// postPasskeyFinish verifies the assertion under the sign-in protection
// (the per-address limit; the passkeys service audits a refused
// assertion), signs the user in with amr hwk and user, and answers the
// page to go to.
func (p *Pages) postPasskeyFinish(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.FormValue("authRequestID")
	if id != "" {
		if _, err := p.flow.PendingRequest(ctx, id); err != nil {
			switch {
			case errors.Is(err, flow.ErrUnknownAuthRequest):
				return httpserver.WriteProblem(c, http.StatusBadRequest, errExpiredRequest)
			case errors.Is(err, flow.ErrOtherBrowser):
				return httpserver.WriteProblem(c, http.StatusBadRequest, errOtherBrowser)
			}
			return err
		}
	}
	if limited, err := p.passkeyThrottled(c, sourceKey(c), "passkey"); limited || err != nil {
		return err
	}
	res, err := p.passkeys.FinishLogin(ctx, c.FormValue("handle"), []byte(c.FormValue("credential")))
	switch {
	case errors.Is(err, passkeys.ErrUserDisabled):
		return httpserver.WriteProblem(c, http.StatusForbidden, msgDisabled)
	case passkeyRefused(err):
		return httpserver.WriteProblem(c, http.StatusBadRequest, passkeys.Message(err))
	case err != nil:
		return err
	case !res.UserVerified:
		return httpserver.WriteProblem(c, http.StatusBadRequest, passkeys.Message(passkeys.ErrVerification))
	}
	if _, err := p.signIn(c, res.UserID, []string{flow.AMRHardware, flow.AMRUser}); err != nil {
		return err
	}
	redirect := safeReturnTo(c.FormValue("return_to"))
	if id != "" {
		redirect = "/login?authRequestID=" + url.QueryEscape(id)
	}
	return c.JSON(http.StatusOK, map[string]string{"redirect": redirect})
}

// passkeyThrottled counts one request of the source under key (the
// per-source limit) and, when the source is over it, audits that and
// answers 429 with Retry-After; limited then reports the answer was written.
func (p *Pages) passkeyThrottled(c echo.Context, key, method string) (limited bool, err error) {
	ctx := c.Request().Context()
	now := p.now()
	wait, err := p.counter.hitSource(ctx, key, now)
	if err != nil || wait <= 0 {
		return false, err
	}
	secs := retrySeconds(wait)
	if err := p.audit.Record(ctx, audit.Event{
		Action: "login.throttled", Target: audit.Ref{Type: "login", ID: "passkey"}, Outcome: audit.Denied,
		Details: map[string]string{"reason": "source", "method": method, "retry_after": strconv.Itoa(secs)},
	}); err != nil {
		return false, err
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return true, httpserver.WriteProblem(c, http.StatusTooManyRequests,
		"Too many sign-in attempts. Try again after "+now.Add(time.Duration(secs)*time.Second).Format("15:04:05 UTC")+".")
}

// passkeyRefused: the assertion was refused (the user may try again), as
// opposed to a server failure.
func passkeyRefused(err error) bool {
	for _, s := range []error{
		passkeys.ErrChallengeUnknown, passkeys.ErrChallengeExpired, passkeys.ErrVerification,
		passkeys.ErrUnknownCredential, passkeys.ErrCloned, passkeys.ErrNotFound,
	} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

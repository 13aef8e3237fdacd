package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/web"
)

// Readable messages of the sign-in form. msgBadCredentials is the only
// answer to a wrong password or an unknown account, so neither is revealed.
const (
	msgBadCredentials = "Incorrect email/username or password."
	msgDisabled       = "This account is disabled. Ask an administrator to enable it."
	msgMissingFields  = "Enter your email or username and your password."
	msgNeedsPasskey   = "This app requires a passkey for this sign-in, and your account has no passkey. Add one on your account page (“Add passkey”), then sign in to the app again. You are being sent back to the app."
)

// Form limits: longer input is rejected before it reaches identity.
const (
	maxLoginLen    = 320
	maxPasswordLen = 1024
)

// loginView is the data of oidc/login.html.
type loginView struct {
	web.Page
	Username      string
	AuthRequestID string
	ReturnTo      string
	ClientName    string
	Passkey       passkeyView
	// Forgot shows the "Forgot password?" link (reset.go).
	Forgot bool
}

// throttledView is the data of oidc/throttled.html.
type throttledView struct {
	web.Page
	Seconds int
	Until   string
}

// unmetView is the data of oidc/unmet.html: a message, then back to the app.
type unmetView struct {
	web.Page
	Message     string
	ContinueURL string
}

// getLogin shows the sign-in form, or serves an authorization request
// without it when the session already satisfies the request.
func (p *Pages) getLogin(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.QueryParam("authRequestID")
	sess, hasSession, err := p.currentSession(c)
	if err != nil {
		return err
	}
	if id == "" {
		returnTo := safeReturnTo(c.QueryParam("return_to"))
		if hasSession {
			return c.Redirect(http.StatusSeeOther, returnTo)
		}
		return p.renderLogin(c, http.StatusOK, loginView{ReturnTo: c.QueryParam("return_to")}, "")
	}
	req, err := p.flow.PendingRequest(ctx, id)
	if err != nil {
		return p.flowError(c, err)
	}
	if hasSession && !p.needsFreshAuth(req, sess) && p.unmetRequirement(req, sess) == "" {
		return p.afterAuthentication(c, req, sess)
	}
	if promptHas(req, "none") {
		// OIDC Core 1.0 §3.1.2.1: no interaction allowed, and the user
		// would have to authenticate.
		return p.failAndRedirect(c, req.ID, "login_required", "the user is not signed in")
	}
	if hasSession && p.unmetRequirement(req, sess) != "" {
		if has, err := p.userHasPasskey(c, sess.UserID); err != nil {
			return err
		} else if !has {
			return p.afterAuthentication(c, req, sess) // told so, and the app gets unmet_authentication_requirements
		}
	}
	pk, err := p.passkeyPrompt(c, req, sess, hasSession)
	if err != nil {
		return err
	}
	return p.renderLogin(c, http.StatusOK, loginView{
		Username: req.LoginHint, AuthRequestID: req.ID, ClientName: req.ClientName, Passkey: pk,
	}, "")
}

func (p *Pages) renderLogin(c echo.Context, status int, v loginView, msg string) error {
	v.Page = web.Page{Title: "Sign in", CSRF: httpserver.CSRFToken(c), Error: msg, Flash: loginNotice(c.QueryParam("notice"))}
	v.Forgot = p.recovery != nil
	v.Passkey.Enabled = p.passkeys != nil
	v.Passkey = passkeyURLs(v.Passkey, v.AuthRequestID, v.ReturnTo)
	return p.render.HTML(c, status, tmplLogin, v)
}

// postLogin checks the sign-in protection limits, verifies the password,
// starts or refreshes the session and continues the authorization request
// (or goes to return_to).
func (p *Pages) postLogin(c echo.Context) error {
	ctx := c.Request().Context()
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	v := loginView{Username: username, AuthRequestID: c.FormValue("authRequestID"), ReturnTo: c.FormValue("return_to")}
	var req flow.PendingRequest
	if v.AuthRequestID != "" {
		var err error
		req, err = p.flow.PendingRequest(ctx, v.AuthRequestID)
		if err != nil {
			return p.flowError(c, err)
		}
		v.ClientName = req.ClientName
	}
	if username == "" || password == "" || len(username) > maxLoginLen || len(password) > maxPasswordLen {
		if len(username) > maxLoginLen {
			v.Username = ""
		}
		return p.renderLogin(c, http.StatusBadRequest, v, msgMissingFields)
	}

	// Sign-in protection: the source address first, then the account (or
	// the identifier that names none).
	now := p.now()
	who, err := p.resolveAttempt(ctx, username)
	if err != nil {
		return err
	}
	loginKey := who.LockKey
	if wait, err := p.counter.hitSource(ctx, sourceKey(c), now); err != nil {
		return err
	} else if wait > 0 {
		return p.refuse(c, who, "source", wait)
	}
	if wait, err := p.counter.lockedFor(ctx, loginKey, now); err != nil {
		return err
	} else if wait > 0 {
		return p.refuse(c, who, "account", wait)
	}

	user, err := p.users.VerifyPassword(ctx, username, password)
	switch {
	case errors.Is(err, identity.ErrInvalidCredentials):
		locked, cerr := p.counter.fail(ctx, loginKey, now, p.lockNotice(who))
		if cerr != nil {
			return cerr
		}
		if err := p.audit.Record(ctx, audit.Event{
			Action: "login.failure", Target: who.Target,
			Outcome: audit.Failure, Details: map[string]string{"reason": "invalid_credentials"},
		}); err != nil {
			return err
		}
		if locked > 0 {
			if err := p.audit.Record(ctx, audit.Event{
				Action: "login.locked", Target: who.Target,
				Outcome: audit.Denied, Details: map[string]string{"seconds": strconv.Itoa(retrySeconds(locked))},
			}); err != nil {
				return err
			}
		}
		return p.renderLogin(c, http.StatusUnauthorized, v, msgBadCredentials)
	case errors.Is(err, identity.ErrUserDisabled):
		// The password was right, so saying "disabled" reveals nothing a
		// guesser could use; it does not count as a failure.
		if err := p.audit.Record(ctx, audit.Event{
			Action: "login.failure", Target: who.Target,
			Outcome: audit.Denied, Details: map[string]string{"reason": "disabled"},
		}); err != nil {
			return err
		}
		return p.renderLogin(c, http.StatusForbidden, v, msgDisabled)
	case err != nil:
		return fmt.Errorf("oidc: verify password: %w", err)
	}

	if err := p.counter.succeed(ctx, loginKey); err != nil {
		return err
	}
	sess, err := p.signIn(c, user.ID, []string{flow.AMRPassword})
	if err != nil {
		return err
	}
	if v.AuthRequestID == "" {
		return c.Redirect(http.StatusSeeOther, safeReturnTo(v.ReturnTo))
	}
	return p.afterAuthentication(c, req, sess)
}

// signIn records a password (or other) authentication: it refreshes the
// browser's session when it belongs to the same user (adding the methods and
// replacing the cookie value), or starts a new one, and audits the sign-in
// in the same transaction.
func (p *Pages) signIn(c echo.Context, userID string, methods []string) (session, error) {
	ctx := c.Request().Context()
	cur, hasSession, err := p.currentSession(c)
	if err != nil {
		return session{}, err
	}
	var sess session
	var token string
	err = database.Transact(ctx, p.db, func(ctx context.Context) error {
		var err error
		if hasSession && cur.UserID == userID {
			sess, token, err = p.sessions.reauthenticate(ctx, cur.ID, methods)
		} else {
			if hasSession {
				if err := p.sessions.delete(ctx, cur.ID); err != nil {
					return err
				}
			}
			sess, token, err = p.sessions.create(ctx, newSessionInput{
				UserID: userID, AMR: methods, IP: pagesClientIP(c), UserAgent: c.Request().UserAgent(),
			})
		}
		if errors.Is(err, errSessionNotFound) { // ended meanwhile
			sess, token, err = p.sessions.create(ctx, newSessionInput{
				UserID: userID, AMR: methods, IP: pagesClientIP(c), UserAgent: c.Request().UserAgent(),
			})
		}
		if err != nil {
			return err
		}
		return p.audit.Record(ctx, audit.Event{
			Action: "login.success", Actor: audit.Ref{Type: "user", ID: userID},
			Target: audit.Ref{Type: "user", ID: userID}, Outcome: audit.Success,
			Details: map[string]string{"session_id": sess.ID, "amr": strings.Join(sess.AMR, " ")},
		})
	})
	if err != nil {
		return session{}, err
	}
	p.setCookie(c, token, sess.ExpiresAt)
	return sess, nil
}

// safeReturnTo keeps redirects on this site: a local path starting with "/"
// but not "//" (or "/\"), else /account.
func safeReturnTo(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") ||
		strings.ContainsAny(s, "\r\n\t") {
		return "/account"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/account"
	}
	return s
}

package signin

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/web"
)

// sessionCookie holds only the random session value; the row has its hash.
const sessionCookie = "gatehouse_session"

// Page templates of the sign-in half.
const (
	tmplLogin      = "oidc/login.html"
	tmplConsent    = "oidc/consent.html"
	tmplLogout     = "oidc/logout.html"
	tmplSignedOut  = "oidc/signed_out.html"
	tmplThrottled  = "oidc/throttled.html"
	tmplUnmet      = "oidc/unmet.html"
	tmplAccount    = "oidc/account.html"
	tmplBadRequest = "oidc/request_error.html"
	tmplReauth     = "oidc/reauth.html"
)

// Config is what newPages needs. The provider's module.go builds it.
type Config struct {
	// DB holds oidc_sessions, oidc_consents and the sign-in counters.
	DB       *gorm.DB
	Renderer *web.Renderer
	Users    Directory
	Audit    AuditLog
	Flow     flow.AuthFlow
	// Passkeys is optional: nil means /login offers no passkey.
	Passkeys Passkeys
	// Recovery is optional: nil means no "Forgot password?" and no pages
	// for emailed links.
	Recovery Recovery
	// Notifier is optional: nil means an account locked after failed
	// sign-ins is not told by mail.
	Notifier Notifier
	// Passwords is optional: nil means /account offers no "Change password".
	Passwords PasswordSetter
	// APIKeys is optional: nil means /account has no personal API keys.
	APIKeys APIKeys
	// Issuer: cookies are Secure when it is https.
	Issuer string
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IdentifierKey keys the audit id of a sign-in identifier that names no
	// account (attempt.go); the façade derives it from the master key with
	// HKDF (info IdentifierKeyInfo), so every replica computes the same id.
	// Nil means a random key for this process.
	IdentifierKey []byte
	// Sessions and Throttle: zero fields take the defaults (12 h idle,
	// 7 days absolute; the contract's sign-in protection limits).
	Sessions sessionTimeouts
	Throttle throttlePolicy
}

// Pages serves /login, /consent, /logout and /account, owns browser
// sessions, and authenticates the session cookie for the console groups.
type Pages struct {
	db       *gorm.DB
	render   *web.Renderer
	users    Directory
	audit    AuditLog
	flow     flow.AuthFlow
	passkeys Passkeys
	secure   bool
	logger   *slog.Logger
	now      func() time.Time
	sessions *sessionDB
	consents *consentDB
	counter  *lockout
	recovery Recovery
	notifier Notifier
	// passwords and apiKeys serve /account's password and API keys.
	passwords PasswordSetter
	apiKeys   APIKeys
	// identifierKey: see Config.IdentifierKey.
	identifierKey []byte
}

// New builds the sign-in pages. Required: DB, Renderer, Users, Audit,
// Flow, Issuer.
func New(cfg Config) (*Pages, error) {
	if cfg.DB == nil || cfg.Renderer == nil || cfg.Users == nil || cfg.Audit == nil || cfg.Flow == nil {
		return nil, errors.New("oidc: newPages: DB, Renderer, Users, Audit and Flow are required")
	}
	for _, name := range []string{tmplLogin, tmplConsent, tmplLogout, tmplSignedOut, tmplThrottled, tmplUnmet, tmplAccount, tmplBadRequest, tmplReauth,
		tmplForgot, tmplSetPassword, tmplVerifyEmail} {
		if !cfg.Renderer.Has(name) {
			return nil, fmt.Errorf("oidc: newPages: template %s is missing", name)
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	logger := cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	t := cfg.Sessions
	t.Idle = cmp.Or(t.Idle, defaultSessionTimeouts.Idle)
	t.Absolute = cmp.Or(t.Absolute, defaultSessionTimeouts.Absolute)
	t.Touch = cmp.Or(t.Touch, defaultSessionTimeouts.Touch)
	idKey := cfg.IdentifierKey
	if len(idKey) == 0 {
		idKey = make([]byte, 32)
		if _, err := rand.Read(idKey); err != nil {
			return nil, fmt.Errorf("oidc: newPages: identifier key: %w", err)
		}
	}
	p := &Pages{
		db: cfg.DB, render: cfg.Renderer, users: cfg.Users, audit: cfg.Audit, flow: cfg.Flow,
		secure:        strings.HasPrefix(strings.ToLower(cfg.Issuer), "https://"),
		logger:        logger,
		now:           func() time.Time { return now().UTC() },
		sessions:      &sessionDB{db: cfg.DB, now: now, timeouts: t},
		consents:      &consentDB{db: cfg.DB, now: now},
		counter:       newDBSignInCounter(cfg.DB, cfg.Throttle),
		identifierKey: idKey,
		passkeys:      cfg.Passkeys,
		recovery:      cfg.Recovery,
		notifier:      cfg.Notifier,
		passwords:     cfg.Passwords,
		apiKeys:       cfg.APIKeys,
	}
	return p, nil
}

// Mount registers the pages. /login, /consent and /logout are public with
// CSRF on each route; /account sits on the Account group, which already
// requires a session and CSRF.
func (p *Pages) Mount(r module.Routes) {
	csrf := httpserver.CSRF(p.secure)
	r.Public.GET("/login", p.getLogin, csrf, withBrowser)
	r.Public.POST("/login", p.postLogin, csrf, withBrowser)
	if p.passkeys != nil {
		r.Public.POST(pathPasskeyBegin, p.postPasskeyBegin, csrf, withBrowser)
		r.Public.POST(pathPasskeyFinish, p.postPasskeyFinish, csrf, withBrowser)
	}
	r.Public.GET("/consent", p.getConsent, csrf, withBrowser)
	r.Public.POST("/consent", p.postConsent, csrf, withBrowser)
	r.Public.GET("/logout", p.getLogout, csrf)
	r.Public.POST("/logout", p.postLogout, csrf)
	if p.recovery != nil {
		p.mountRecovery(r.Public, csrf)
	}
	if r.Account != nil {
		if p.recovery != nil {
			r.Account.POST("/email/verify", p.postAccountVerify)
		}
		r.Account.GET("", p.getAccount)
		r.Account.GET("/", p.getAccount)
		r.Account.POST("/sessions/end", p.postEndSession)
		p.mountAccountCredentials(r)
		if r.Sensitive != nil {
			r.Account.GET("/confirm", p.getConfirm)
			r.Account.POST("/confirm", p.postConfirm, r.Sensitive)
			if p.passkeys != nil {
				r.Account.POST(strings.TrimPrefix(pathConfirmPasskeyBegin, "/account"), p.postConfirmPasskeyBegin)
				r.Account.POST(strings.TrimPrefix(pathConfirmPasskeyFinish, "/account"), p.postConfirmPasskeyFinish)
			}
		}
	}
}

// EndSession implements sessionStore: the provider's RP-initiated logout
// ends the session named by the ID token's sid. An unknown or already ended
// session is not an error.
func (p *Pages) EndSession(ctx context.Context, sessionID string) error {
	return database.Transact(ctx, p.db, func(ctx context.Context) error {
		sess, err := p.sessions.byID(ctx, sessionID)
		if errors.Is(err, errSessionNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.sessions.delete(ctx, sessionID); err != nil {
			return err
		}
		return p.audit.Record(ctx, audit.Event{
			Action: "logout", Actor: audit.Ref{Type: "user", ID: sess.UserID},
			Target: audit.Ref{Type: "session", ID: sessionID}, Outcome: audit.Success,
		})
	})
}

// addAuthentication records further methods proven in a session (a passkey
// adds "hwk" and "user", which makes acr "phr") and sets auth_time to now,
// without rotating the cookie value.
func (p *Pages) addAuthentication(ctx context.Context, sessionID string, methods ...string) error {
	_, err := p.sessions.addMethods(ctx, sessionID, methods, "")
	return err
}

// Run deletes expired sessions and stale sign-in counters every
// interval until ctx ends (a background task for main's errgroup).
func (p *Pages) Run(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Minute)
	defer tick.Stop()
	for {
		p.cleanupOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (p *Pages) cleanupOnce(ctx context.Context) {
	if _, err := p.sessions.deleteExpired(ctx); err != nil && ctx.Err() == nil {
		p.logger.WarnContext(ctx, "clean up sessions", slog.String("error", err.Error()))
	}
	if err := p.counter.deleteStale(ctx, p.now()); err != nil && ctx.Err() == nil {
		p.logger.WarnContext(ctx, "clean up sign-in counters", slog.String("error", err.Error()))
	}
}

// pagesClientIP is the client's address as the server determined it
// (httpserver applies GATEHOUSE_TRUSTED_PROXIES): sign-in limits, sessions
// and the audit log all use it.
func pagesClientIP(c echo.Context) string {
	if ip := principal.RequestFrom(c.Request().Context()).IP; ip != "" {
		return ip
	}
	return c.RealIP()
}

// badRequestView is the page for a link that cannot be served.
type badRequestView struct {
	web.Page
	Message string
}

// renderBadRequest answers 400 with a readable page.
func (p *Pages) renderBadRequest(c echo.Context, msg string) error {
	return p.render.HTML(c, http.StatusBadRequest, tmplBadRequest, badRequestView{
		Page: web.Page{Title: "Sign-in link not valid"}, Message: msg,
	})
}

// errExpiredRequest is the readable text for an unknown authorization request.
const errExpiredRequest = "This sign-in link has expired or was already used. Go back to the app and start again."

// errOtherBrowser is the text for a request another browser started
// (flow.ErrOtherBrowser): a link someone sent must not sign you in for them.
const errOtherBrowser = "This sign-in was started in another browser, so it cannot be finished here. Go back to the app and sign in again from this browser."

// withBrowser tells the provider which browser is asking (its auth-session
// cookie), so an authorization request another browser started is refused
// (flow.ErrOtherBrowser).
func withBrowser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(flow.WithBrowser(r.Context(), flow.BrowserOf(r))))
		return next(c)
	}
}

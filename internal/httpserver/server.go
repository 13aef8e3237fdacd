// Package httpserver builds the echo server every module mounts on: request
// ids, structured request logs, panic recovery, metrics, security headers,
// body limits, one error handler (problem+json for the API, an HTML page for
// browsers), and the authentication middleware that turns a bearer credential
// or a session cookie into a principal.Principal.
package httpserver

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humaecho"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/internal/principal"
)

// MaxBodyBytes bounds every request body; the API answers 413 past it.
const MaxBodyBytes = 1 << 20

// Options configure the server.
type Options struct {
	Logger  *slog.Logger
	Version string
	// SecureCookies marks cookies Secure (issuer on https).
	SecureCookies bool
	// Registerer receives the HTTP metrics; nil disables them.
	Registerer prometheus.Registerer
	// Bearer authenticates API requests; Session authenticates pages. Either
	// may be nil until its module is wired, and then every request is 401.
	Bearer  BearerAuthenticator
	Session SessionAuthenticator
	// ErrorPage renders HTML errors; nil renders plain text.
	ErrorPage ErrorPageRenderer
	// Reauth asks a browser session for a fresh proof of identity before a
	// sensitive action (Routes.Sensitive); ReauthMaxAge is how recent it
	// must be (default 5 minutes).
	Reauth       Reauthenticator
	ReauthMaxAge time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client (GATEHOUSE_TRUSTED_PROXIES); empty means the TCP peer is the
	// client. See ClientIPExtractor.
	TrustedProxies []netip.Prefix
}

// Server is the echo instance plus the route groups modules mount on.
type Server struct {
	Echo   *echo.Echo
	Routes module.Routes
	opts   Options
	// bearerRoutes are the root-level routes mounted through Routes.Bearer;
	// like /api/, their errors are problem+json.
	bearerRoutes map[string]bool
}

// New builds the server and its groups.
func New(opts Options) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = ClientIPExtractor(opts.TrustedProxies)
	s := &Server{Echo: e, opts: opts, bearerRoutes: map[string]bool{}}
	e.HTTPErrorHandler = s.handleError

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Generator: func() string { return uuid.NewString() },
	}))
	e.Use(requestContext)
	e.Use(s.recoverPanics)
	e.Use(s.logRequests)
	if opts.Registerer != nil {
		e.Use(newMetrics(opts.Registerer).middleware)
	}
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: "1MiB", // = MaxBodyBytes
		// Requests without a body (most GETs) need no counting reader.
		Skipper: func(c echo.Context) bool { return c.Request().Body == http.NoBody },
	}))

	public := e.Group("")
	bearer := &module.BearerGroup{Add: func(method, path string, h echo.HandlerFunc) {
		s.bearerRoutes[path] = true
		e.Add(method, path, h, s.requireBearer)
	}}
	api := e.Group("/api/v1", s.requireBearer)
	admin := e.Group("/admin", s.requireSession, CSRF(opts.SecureCookies))
	account := e.Group("/account", s.requireSession, CSRF(opts.SecureCookies))

	cfg := huma.DefaultConfig("Gatehouse API", opts.Version)
	cfg.CreateHooks = nil // no $schema links in bodies
	cfg.DocsPath = ""     // the docs page loads scripts from a CDN; CSP forbids it
	cfg.OpenAPIPath = "/openapi"
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "API key or OAuth access token"},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	humaAPI := humaecho.NewWithGroup(e, api, cfg)

	s.Routes = module.Routes{Public: public, Bearer: bearer, API: humaAPI, Admin: admin, Account: account,
		Sensitive: s.requireFreshAuth}
	return s
}

// requestContext copies the request id, client IP and user agent into the
// request's context for services, the audit log and log lines.
func requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		info := principal.Request{
			ID:        c.Response().Header().Get(echo.HeaderXRequestID),
			IP:        c.RealIP(),
			UserAgent: truncate(req.UserAgent(), 512),
		}
		c.SetRequest(req.WithContext(principal.WithRequest(req.Context(), info)))
		return next(c)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		path := c.Path()
		// Probes, metrics scrapes, discovery and JWKS are polled constantly
		// and say nothing on success; they log at debug level.
		if status < 400 && quietRoutes[path] {
			level = slog.LevelDebug
		}
		if !s.opts.Logger.Enabled(c.Request().Context(), level) {
			return nil
		}
		if path == "" {
			path = "unmatched"
		}
		// The raw query is never logged: it may hold codes or tokens.
		s.opts.Logger.LogAttrs(c.Request().Context(), level, "http request",
			slog.String("method", c.Request().Method),
			slog.String("route", path),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
		)
		return nil
	}
}

// quietRoutes are logged only when they fail.
var quietRoutes = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true, "/static/*": true,
	"/.well-known/openid-configuration": true, "/keys": true,
	"/.well-known/authzen-configuration": true,
}

// securityHeaders sets the headers every page needs. The CSP allows no inline
// script or style; form-action is left out on purpose: browsers apply it to
// the redirect after the sign-in form posts, which must reach the client's
// redirect_uri on another origin.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		return next(c)
	}
}

// IsAPIRequest reports whether errors should be rendered as problem+json.
func IsAPIRequest(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}

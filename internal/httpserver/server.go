// Package httpserver builds the echo server every module mounts on: request
// ids, structured request logs, panic recovery, metrics, security headers,
// body limits, one error handler (problem+json for the API, an HTML page for
// browsers), and the authentication middleware that turns a bearer credential
// or a session cookie into a principal.Principal.
package httpserver

import (
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
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
	metrics      *metrics // nil without a Registerer
}

// New builds the server and its groups.
func New(opts Options) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = ClientIPExtractor(opts.TrustedProxies)
	s := &Server{Echo: e, opts: opts, bearerRoutes: map[string]bool{}}
	if opts.Registerer != nil {
		s.metrics = newMetrics(opts.Registerer)
	}
	e.HTTPErrorHandler = s.handleError

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(requestContext)
	e.Use(s.recoverPanics)
	e.Use(s.observeRequests)
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

// newRequestID returns a random UUID (version 4) for X-Request-Id. The id
// correlates log lines and is no secret, so it comes from math/rand/v2
// (ChaCha8 per thread, seeded by the runtime) rather than a crypto/rand read
// per request.
func newRequestID() string {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u.String()
}

// StatusClientClosedRequest is recorded for a request whose client went
// away before the answer (nginx's 499): not a server error.
const StatusClientClosedRequest = 499

// observeRequests counts every request in the metrics and writes the
// request log line. Successful requests (below 400) log at debug level: at
// the default level they cost no formatting or I/O, which under load was a
// measurable share of a cheap request's CPU. Every 4xx (499 included) logs
// at info and every 5xx at error, so failures stay visible at the default
// level; security events have log lines and audit events of their own.
func (s *Server) observeRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		status := c.Response().Status
		// The route pattern, never the raw path, keeps label cardinality
		// bounded (and keeps codes and tokens in a path or query out of logs).
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		req := c.Request()
		if s.metrics != nil {
			s.metrics.observe(req.Method, route, status, elapsed)
		}
		level := requestLogLevel(status)
		ctx := req.Context()
		if !s.opts.Logger.Enabled(ctx, level) {
			return nil
		}
		s.opts.Logger.LogAttrs(ctx, level, "http request",
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
		)
		return nil
	}
}

func requestLogLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

// securityHeaders sets the headers every page needs. The CSP allows no inline
// script or style; form-action is left out on purpose: browsers apply it to
// the redirect after the sign-in form posts, which must reach the client's
// redirect_uri on another origin.
//
// The values are built once and assigned to the header map directly (the
// names are already canonical): no canonicalisation and no []string per
// header per request. The slices are shared, so nothing may write into them
// in place (Header.Set and Add replace or append, which is safe).
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		for i := range securityHeaderValues {
			h[securityHeaderValues[i].name] = securityHeaderValues[i].value
		}
		return next(c)
	}
}

var securityHeaderValues = []struct {
	name  string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
}

// IsAPIRequest reports whether errors should be rendered as problem+json.
func IsAPIRequest(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}

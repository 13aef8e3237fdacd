// Package module is the contract between main and a module: the routes it
// mounts. Groups carry their authentication middleware, so a module
// cannot mount an unprotected API or console page by accident.
package module

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/labstack/echo/v4"
)

// Module is one feature area's HTTP side: it mounts its routes on the groups
// it is given. (A module's name — its table prefix and migration folder — is
// a convention the architecture test checks, not a method.)
type Module interface {
	Mount(r Routes)
}

// Routes are the route groups a module may mount on.
type Routes struct {
	// Public is "/": OIDC endpoints, /login, /consent, health. No auth.
	Public *echo.Group
	// Sensitive guards a POST route whose action changes credentials or
	// grants (password, email, passkeys, API keys, roles, policies, keys):
	// a browser session must have proved the user's identity within
	// GATEHOUSE_REAUTH_MAX_AGE, or it is asked to ("Confirm it's you") and
	// the original form post is carried out afterwards. Add it as route
	// middleware: g.POST(path, h, r.Sensitive).
	Sensitive echo.MiddlewareFunc
	// Bearer mounts routes at the root that require a bearer credential
	// (API key or access token), such as AuthZEN's /access/v1: the
	// principal is in the request context, and errors are problem+json.
	Bearer *BearerGroup
	// API is the huma API under "/api/v1": every operation requires a bearer
	// credential (API key or access token) and sees a principal.Principal in
	// its context.
	API huma.API
	// Admin is "/admin" and Account is "/account": a signed-in session and a
	// CSRF token are required; the principal is in the request context.
	Admin   *echo.Group
	Account *echo.Group
}

// BearerGroup adds root-level routes that require a bearer credential. It
// has no way to add a route without that check, so a module cannot mount an
// unprotected API by accident. (An echo group with middleware at the root
// would also catch every unknown path; this adds the check per route.)
type BearerGroup struct {
	// Add registers one protected route; the HTTP server provides it.
	Add func(method, path string, h echo.HandlerFunc)
}

// GET adds a protected GET route.
func (b *BearerGroup) GET(path string, h echo.HandlerFunc) { b.Add(http.MethodGet, path, h) }

// POST adds a protected POST route.
func (b *BearerGroup) POST(path string, h echo.HandlerFunc) { b.Add(http.MethodPost, path, h) }

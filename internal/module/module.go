// Package module is the contract between main and a module: a name and the
// routes it mounts. Groups carry their authentication middleware, so a module
// cannot mount an unprotected API or console page by accident.
package module

import (
	"github.com/danielgtaylor/huma/v2"
	"github.com/labstack/echo/v4"
)

// Module is one feature area: its name is its table prefix and migration
// folder.
type Module interface {
	Name() string
	Mount(r Routes)
}

// Routes are the route groups a module may mount on.
type Routes struct {
	// Public is "/": OIDC endpoints, /login, /consent, health. No auth.
	Public *echo.Group
	// API is the huma API under "/api/v1": every operation requires a bearer
	// credential (API key or access token) and sees a principal.Principal in
	// its context.
	API huma.API
	// Admin is "/admin" and Account is "/account": a signed-in session and a
	// CSRF token are required; the principal is in the request context.
	Admin   *echo.Group
	Account *echo.Group
}

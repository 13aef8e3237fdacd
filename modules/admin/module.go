// Package admin is the web console under /admin: server-rendered pages over
// the other modules' services. It owns no tables. Every page and action asks
// the authorizer exactly what the matching /api/v1 operation asks, and every
// change is the same service call the API makes, so validation, the
// no-escalation rules and the audit events are the API's.
//
// Every action is a plain form post (no script needed); the Admin group
// requires a session and a CSRF token, and actions that change grants or
// credentials also carry Routes.Sensitive (re-authentication).
package admin

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/internal/module"
)

// Deps are the services the console composes. Users, Roles, Authorizer,
// Grants and Pages are required; a nil optional service hides its section.
type Deps struct {
	Users      Users
	Roles      Roles
	Authorizer Authorizer
	Grants     Grants
	Pages      Pages
	Policies   Policies
	Clients    Clients
	APIKeys    APIKeys
	Audit      AuditLog
	Keys       SigningKeys
	Counts     Counts
	Activity   EventCounts
	Links      EmailLinks
	Mail       MailStats
	Sessions   Sessions
	Passkeys   Passkeys
}

// Options tune the console.
type Options struct {
	// Issuer is shown in a new client's ready-to-paste configuration.
	Issuer string
	// Logger receives unexpected errors; nil discards them.
	Logger *slog.Logger
}

// Module is the console's HTTP side.
type Module struct {
	d    Deps
	opts Options
	log  *slog.Logger
}

var _ module.Module = (*Module)(nil)

// New returns the console over deps.
func New(deps Deps, opts Options) *Module {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Module{d: deps, opts: opts, log: log}
}

// Mount puts the pages on the Admin group ("/admin", session + CSRF).
// Sensitive actions get r.Sensitive as route middleware.
func (m *Module) Mount(r module.Routes) {
	g := r.Admin
	if g == nil {
		return
	}
	sensitive := r.Sensitive
	if sensitive == nil {
		sensitive = func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	g.GET("", m.getUsers)
	g.GET("/", m.getUsers)
	g.GET("/users", m.getUsers)
	g.GET("/users/new", m.getNewUser)
	g.POST("/users", m.postUser)
	g.GET("/users/:id", m.getUser)
	g.POST("/users/:id/roles", m.postAssignRole, sensitive)
	g.POST("/users/:id/roles/remove", m.postUnassignRole, sensitive)
	g.POST("/users/:id/status", m.postStatus, sensitive)
	g.GET("/users/:id/delete", m.getDeleteUser)
	g.POST("/users/:id/delete", m.postDeleteUser, sensitive)
	m.mountUserEdit(g, sensitive)
	m.mountUserLinks(g)
	m.mountUserActivity(g, sensitive)
	m.mountRest(g, sensitive)
}
